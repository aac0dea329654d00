/** coco-caption metrics in pure TypeScript, for the main process and the engine alike. */
export { bleu, type BleuResult } from './bleu';
export { ciderD, CIDER_SIGMA, type CiderResult } from './cider';
export { METRIC_KEYS, METRIC_NAMES, METRIC_SUITE } from './definitions';
export { countNgrams, splitWords, type NgramCounts, type ScoringItem } from './ngrams';
export { lcsLength, rougeL, rougeLForImage, ROUGE_BETA, type RougeResult } from './rouge';
export { scoreCorpus } from './score';
