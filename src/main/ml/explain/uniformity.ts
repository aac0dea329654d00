/**
 * How close attention weights are to uniform. Attention that spreads evenly
 * over every region (a known failure mode: the model learned to ignore where
 * it looks) makes heatmaps meaningless, so the gallery warns about it.
 */
import type { AttentionDiagnosis } from '../../../shared/galleryTypes';

/** Above this mean normalized entropy the attention is called nearly uniform (a 7×7 grid at 0.97 has no region above about twice the uniform weight). */
export const NEARLY_UNIFORM_THRESHOLD = 0.97;

/** Entropy of `weights` divided by log(regions): 1 = uniform, 0 = all weight on one region. */
export function normalizedEntropy(weights: readonly number[]): number {
  if (weights.length <= 1) return 0;
  let entropy = 0;
  for (const w of weights) if (w > 0) entropy -= w * Math.log(w);
  return Math.min(1, Math.max(0, entropy / Math.log(weights.length)));
}

export function diagnoseAttention(steps: readonly (readonly number[])[], threshold = NEARLY_UNIFORM_THRESHOLD): AttentionDiagnosis {
  const values = steps.map(normalizedEntropy);
  const meanUniformity = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : 0;
  return { meanUniformity, nearlyUniform: meanUniformity >= threshold, threshold };
}
