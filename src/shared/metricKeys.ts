/**
 * One vocabulary of metric keys, from RunConfig (early stopping, tuning
 * objectives) to the store, the events and the UI. A stored key is
 * `<scope>/<name>`: `train/` per step, `val/` per epoch on the validation
 * split, `epoch/` per-epoch bookkeeping. Score names are the ones the metrics
 * library reports (BLEU-1..4, ROUGE-L, CIDEr-D), so `val/ciderD` is CIDEr-D
 * on validation, and an evaluation's aggregate `ciderD` is the same score on
 * the split it evaluated.
 */

export const SCORE_NAMES = ['bleu1', 'bleu2', 'bleu3', 'bleu4', 'rougeL', 'ciderD'] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];

export const METRIC_KEYS = {
  trainLoss: 'train/loss',
  trainLearningRate: 'train/learningRate',
  trainGradNorm: 'train/gradNorm',
  trainTokensPerSecond: 'train/tokensPerSecond',
  valLoss: 'val/loss',
  valBleu4: 'val/bleu4',
  valCiderD: 'val/ciderD',
  epochTrainLoss: 'epoch/trainLoss',
  epochLearningRate: 'epoch/learningRate',
  epochSeconds: 'epoch/seconds',
} as const;
export type MetricKeyName = (typeof METRIC_KEYS)[keyof typeof METRIC_KEYS];

/** Validation metrics that can pick the best epoch, stop early, drive the plateau schedule, or be a tuning objective. */
export const VALIDATION_KEYS = [METRIC_KEYS.valCiderD, METRIC_KEYS.valBleu4, METRIC_KEYS.valLoss] as const;
export type ValidationKey = (typeof VALIDATION_KEYS)[number];

/** Names earlier versions wrote in RunConfig, read as today's keys. */
export const LEGACY_VALIDATION_KEYS: Readonly<Record<string, ValidationKey>> = {
  cider: METRIC_KEYS.valCiderD,
  ciderD: METRIC_KEYS.valCiderD,
  bleu4: METRIC_KEYS.valBleu4,
  valLoss: METRIC_KEYS.valLoss,
};

/** Reads an objective or early-stopping metric as a stored key (earlier names too); undefined when it is none. */
export function validationKeyOf(name: string): ValidationKey | undefined {
  const key = LEGACY_VALIDATION_KEYS[name] ?? name;
  return (VALIDATION_KEYS as readonly string[]).includes(key) ? (key as ValidationKey) : undefined;
}

/** Which way a validation metric improves: loss down, scores up. */
export const validationGoal = (key: ValidationKey): 'minimize' | 'maximize' => (key === METRIC_KEYS.valLoss ? 'minimize' : 'maximize');
