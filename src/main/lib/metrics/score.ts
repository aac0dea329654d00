/** Every metric of the suite on one set of tokenized captions, per image and for the corpus. */
import type { CorpusScores, MetricScores } from '../../../shared/inferenceTypes';
import { bleu } from './bleu';
import { ciderD } from './cider';
import type { ScoringItem } from './ngrams';
import { rougeL } from './rouge';

export function scoreCorpus(items: readonly ScoringItem[]): CorpusScores {
  const bleus = bleu(items, 4);
  const rouge = rougeL(items);
  const cider = ciderD(items);
  const asScores = (b: readonly number[], r: number, c: number): MetricScores => ({
    bleu1: b[0]!,
    bleu2: b[1]!,
    bleu3: b[2]!,
    bleu4: b[3]!,
    rougeL: r,
    ciderD: c,
  });
  return {
    images: items.length,
    aggregate: asScores(bleus.corpus, rouge.corpus, cider.corpus),
    perImage: items.map((item, index) => ({
      imageId: item.imageId,
      candidate: item.candidate,
      scores: asScores(bleus.perImage[index]!, rouge.perImage[index]!, cider.perImage[index]!),
    })),
  };
}
