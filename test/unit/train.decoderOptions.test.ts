import { describe, expect, it } from 'vitest';
import { runConfigSchema } from '../../src/shared/runConfig';
import { decoderOptionsFor } from '../../src/main/ml/train/modelSetup';

describe('decoder options from a run configuration', () => {
  it('decoder.attentionCoverage reaches an attention decoder, is off by default, and never reaches a decoder without attention', () => {
    const options = (decoder: Record<string, unknown>) => decoderOptionsFor(runConfigSchema.parse({ dataset: { path: '/d' }, decoder }), 50, 34);
    expect(options({ variant: 'attention' }).coverage).toBe(false);
    expect(options({ variant: 'attention', attentionCoverage: true }).coverage).toBe(true);
    expect(options({ variant: 'merge', attentionCoverage: true }).coverage).toBe(false);
    expect(() => runConfigSchema.parse({ dataset: { path: '/d' }, decoder: { attentionCoverage: 'yes' } })).toThrow(/attentionCoverage/);
  });
});
