/**
 * What each metric means, and which coco-caption code it reproduces. Stored
 * with every evaluation: a score is only comparable to another computed by the
 * same definitions on the same tokenization.
 */
import type { MetricKey, MetricSuite } from '../../../shared/inferenceTypes';

export const METRIC_KEYS: readonly MetricKey[] = ['bleu1', 'bleu2', 'bleu3', 'bleu4', 'rougeL', 'ciderD'];

export const METRIC_NAMES: Record<MetricKey, string> = {
  bleu1: 'BLEU-1',
  bleu2: 'BLEU-2',
  bleu3: 'BLEU-3',
  bleu4: 'BLEU-4',
  rougeL: 'ROUGE-L',
  ciderD: 'CIDEr-D',
};

const bleuDefinition = (n: number) =>
  `Corpus-level BLEU with n-grams up to ${n}: clipped n-gram precisions summed over all images, geometric mean, ` +
  "brevity penalty from the summed candidate length and the summed closest reference lengths (ties to the shorter); " +
  'no smoothing beyond the 1e-15/1e-9 guards of bleu_scorer.py. Per-image values are the same formula on one image.';

export const METRIC_SUITE: MetricSuite = {
  version: 'coco-caption-1',
  reference: 'coco-caption (pycocoevalcap 1.2): bleu_scorer.py, rouge.py, cider_scorer.py, on the same tokenized captions',
  metrics: [
    { key: 'bleu1', name: 'BLEU-1', definition: bleuDefinition(1) },
    { key: 'bleu2', name: 'BLEU-2', definition: bleuDefinition(2) },
    { key: 'bleu3', name: 'BLEU-3', definition: bleuDefinition(3) },
    { key: 'bleu4', name: 'BLEU-4', definition: bleuDefinition(4) },
    {
      key: 'rougeL',
      name: 'ROUGE-L',
      definition:
        'LCS-based F-measure with beta 1.2: the best precision and the best recall over the references, taken separately; mean over images.',
    },
    {
      key: 'ciderD',
      name: 'CIDEr-D',
      definition:
        'TF-IDF cosine similarity of 1..4-grams, document frequencies from the references of the evaluated images ' +
        '(idf = log(images) - log(max(1, df))), candidate weights clipped to the reference weights, Gaussian length penalty ' +
        'with sigma 6 on the bigram counts, mean over n and over references, times 10; mean over images.',
    },
  ],
  unavailable: [
    {
      name: 'METEOR',
      reason: 'it needs the METEOR 1.5 Java program and its paraphrase tables, which the workbench does not ship; it is not approximated under its name.',
    },
    {
      name: 'SPICE',
      reason: 'it needs the SPICE Java program with Stanford CoreNLP and its models, which the workbench does not ship; it is not approximated under its name.',
    },
  ],
};
