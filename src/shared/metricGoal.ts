/** Whether smaller or larger is better for a metric key, judged by its name. */
import type { MetricGoal } from './storeTypes';

// Losses, perplexity, error rates and durations go down; scores (BLEU,
// ROUGE-L, CIDEr-D, accuracy) go up.
const SMALLER_IS_BETTER = /(loss|perplexity|ppl|error|err_rate|wer|time|seconds|duration|_ms\b)/i;

export function metricGoal(key: string): MetricGoal {
  return SMALLER_IS_BETTER.test(key) ? 'min' : 'max';
}
