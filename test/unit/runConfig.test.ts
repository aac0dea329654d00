import { describe, expect, it } from 'vitest';
import {
  configFromPreset,
  presetIds,
  resolveBatchSize,
  runConfigJsonSchema,
  runConfigSchema,
  searchSpace,
  validateRunConfig,
} from '../../src/shared/runConfig';

describe('RunConfig', () => {
  it('names the early-stopping metric by its stored key, and still reads the names earlier runs used', () => {
    const read = (metric: string) => {
      const result = validateRunConfig({ dataset: { path: '/d' }, training: { earlyStoppingMetric: metric } });
      return result.ok ? result.config.training.earlyStoppingMetric : result.issues[0]!.path;
    };
    expect(read('val/ciderD')).toBe('val/ciderD');
    expect(read('cider')).toBe('val/ciderD');
    expect(read('valLoss')).toBe('val/loss');
    expect(read('bleu4')).toBe('val/bleu4');
    expect(read('meteor')).toBe('training.earlyStoppingMetric');
    const defaults = validateRunConfig({ dataset: { path: '/d' } });
    expect(defaults.ok && defaults.config.training.earlyStoppingMetric).toBe('val/ciderD');
  });

  it('has the product defaults', () => {
    const config = runConfigSchema.parse({ dataset: { path: '/d' } });
    expect(config.decoder).toMatchObject({ embeddingDim: 256, units: 256, dropout: 0.3, variant: 'merge', cell: 'lstm', layers: 1 });
    expect(config.training.batchSize).toBe('auto');
    expect(config.encoder.source).toBe('scratch-cnn');
    expect(config.encoder.fineTune.enabled).toBe(false);
    expect(config.training.precision).toBe('float32');
  });

  it('rejects values outside the product ranges, naming the field', () => {
    const result = validateRunConfig({
      dataset: { path: '/d' },
      decoder: { embeddingDim: 100, units: 600, dropout: 0.65, layers: 3 },
      training: { batchSize: 8 },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const paths = result.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(['decoder.embeddingDim', 'decoder.units', 'decoder.dropout', 'decoder.layers', 'training.batchSize']));
    expect(validateRunConfig({ dataset: { path: '/d' }, decoder: { colour: 'red' } }).ok).toBe(false);
    // Dropout may be off; a search still draws it from 0.1 to 0.6.
    expect(validateRunConfig({ dataset: { path: '/d' }, decoder: { dropout: 0 } }).ok).toBe(true);
    expect(validateRunConfig({ dataset: { path: '/d' }, decoder: { dropout: -0.1 } }).ok).toBe(false);
    const missing = validateRunConfig({ dataset: {} });
    expect(missing.ok === false && missing.issues[0]!.path).toBe('dataset.path');
    const none = validateRunConfig({});
    expect(none.ok === false && none.issues[0]!.path).toBe('dataset');
  });

  it('presets are valid once a dataset is given', () => {
    for (const id of presetIds) {
      const config = configFromPreset(id, { dataset: { path: '/d' } });
      expect(config.dataset.path).toBe('/d');
    }
    expect(configFromPreset('flickr8k-like', { dataset: { path: '/d' } }).encoder.source).toBe('mobilenet_v2');
    expect(configFromPreset('shapes-quick', { dataset: { path: '/d' }, decoder: { variant: 'attention' } }).decoder.units).toBe(128);
  });

  it('names encoder.imageSize when the scratch CNN cannot halve it down to a grid, stem stride included, and scratchGridCells when it exceeds that grid', () => {
    const check = (encoder: Record<string, unknown>) => validateRunConfig({ dataset: { path: '/d' }, encoder });
    expect(check({ imageSize: 100, scratchStemStride: 2 })).toMatchObject({ ok: false, issues: [{ path: 'encoder.imageSize', message: expect.stringMatching(/multiple of 16 .*stem stride of 2 \(got 100\)/) }] });
    expect(check({ imageSize: 60 })).toMatchObject({ ok: false, issues: [{ path: 'encoder.imageSize', message: expect.stringMatching(/multiple of 8 /) }] });
    expect(check({ imageSize: 96, scratchStemStride: 2 })).toMatchObject({ ok: true });
    expect(check({ imageSize: 72 })).toMatchObject({ ok: true });
    expect(check({ scratchStemStride: 3 })).toMatchObject({ ok: false, issues: [{ path: 'encoder.scratchStemStride' }] });
    // Backbones have their own input size: the scratch CNN's rule does not apply.
    expect(check({ source: 'mobilenet_v2', imageSize: 100 })).toMatchObject({ ok: true });
    // The grid can be pooled to fewer cells than the CNN's own, never to more.
    expect(check({ imageSize: 72, scratchGridCells: 3 })).toMatchObject({ ok: true });
    expect(check({ imageSize: 64, scratchGridCells: 9 })).toMatchObject({ ok: false, issues: [{ path: 'encoder.scratchGridCells', message: expect.stringMatching(/at most .* 8 cells at 64 px \(got 9\)/) }] });
    expect(check({ imageSize: 64, scratchStemStride: 2, scratchGridCells: 5 })).toMatchObject({ ok: false, issues: [{ path: 'encoder.scratchGridCells' }] });
    // Separate cells cut the image into the grid's tiles: there must be a grid, and each tile must halve down to one cell.
    expect(check({ imageSize: 72, scratchGridCells: 3, scratchSeparateCells: true })).toMatchObject({ ok: true });
    expect(check({ imageSize: 72, scratchSeparateCells: true })).toMatchObject({ ok: false, issues: [{ path: 'encoder.scratchSeparateCells', message: expect.stringMatching(/needs encoder\.scratchGridCells/) }] });
    expect(check({ imageSize: 64, scratchGridCells: 3, scratchSeparateCells: true })).toMatchObject({ ok: false, issues: [{ path: 'encoder.scratchSeparateCells', message: expect.stringMatching(/multiple of 8 pixels: 64 px \/ 3 cells/) }] });
  });

  it('the spatial parts are off unless asked for; shapes-grounded turns all five on', () => {
    const quick = configFromPreset('shapes-quick', { dataset: { path: '/d' } });
    expect(quick.encoder).toMatchObject({ gridCoordinates: false, gridDirections: false });
    expect(quick.decoder).toMatchObject({ attentionWordQuery: false, attentionWordGlimpse: false, attentionCoverage: false });
    const grounded = configFromPreset('shapes-grounded', { dataset: { path: '/d' } });
    expect(grounded.encoder).toMatchObject({ source: 'scratch-cnn', imageSize: 96, scratchGridCells: 3, gridCoordinates: true, gridDirections: true });
    expect(configFromPreset('shapes-quick', { dataset: { path: '/d' } }).encoder.scratchGridCells).toBe(0);
    expect(grounded.decoder).toMatchObject({ variant: 'attention', doublyStochasticWeight: 0, attentionWordQuery: true, attentionWordGlimpse: true, attentionCoverage: true });
    expect(grounded.vocab.maxCaptionLength).toBe(20);
    expect(validateRunConfig({ dataset: { path: '/d' }, encoder: { gridCoordinates: 'yes' } })).toMatchObject({ ok: false, issues: [{ path: 'encoder.gridCoordinates' }] });
  });

  it('carries the decoding a run recommends: none by default, all three for shapes-grounded, mirror only where the model learns mirrors', () => {
    expect(runConfigSchema.parse({ dataset: { path: '/d' } }).decoding).toEqual({ mirrorConsensus: false, converseConsensus: false, relationSearch: false });
    expect(configFromPreset('shapes-grounded', { dataset: { path: '/d' } }).decoding).toEqual({ mirrorConsensus: true, converseConsensus: true, relationSearch: true });
    expect(configFromPreset('shapes-quick', { dataset: { path: '/d' } }).decoding.mirrorConsensus).toBe(false);
    // Without the flip the model never sees a mirrored image; with frozen features the flip never reaches it.
    const unflipped = validateRunConfig({ dataset: { path: '/d' }, training: { horizontalFlip: false }, decoding: { mirrorConsensus: true } });
    expect(unflipped).toMatchObject({ ok: false, issues: [{ path: 'decoding.mirrorConsensus' }] });
    expect(!unflipped.ok && unflipped.issues[0]!.message).toMatch(/horizontalFlip/);
    const frozen = validateRunConfig({ dataset: { path: '/d' }, encoder: { source: 'mobilenet_v2' }, training: { horizontalFlip: true }, decoding: { mirrorConsensus: true } });
    expect(frozen).toMatchObject({ ok: false, issues: [{ path: 'decoding.mirrorConsensus' }] });
    expect(validateRunConfig({ dataset: { path: '/d' }, encoder: { source: 'mobilenet_v2', fineTune: { enabled: true } }, training: { horizontalFlip: true }, decoding: { mirrorConsensus: true } }).ok).toBe(true);
    // The other two read captions, not images: any model may recommend them.
    expect(validateRunConfig({ dataset: { path: '/d' }, decoding: { converseConsensus: true, relationSearch: true } }).ok).toBe(true);
    expect(validateRunConfig({ dataset: { path: '/d' }, decoding: { beamWidth: 3 } })).toMatchObject({ ok: false, issues: [{ path: 'decoding' }] });
  });

  it('describes every field for the generated form, with bounds on numbers', () => {
    const schema = runConfigJsonSchema() as { properties: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    let fields = 0;
    for (const [section, group] of Object.entries(schema.properties)) {
      if (section === 'name') continue;
      for (const [name, field] of Object.entries(group.properties)) {
        if (name === 'fineTune') continue;
        fields += 1;
        expect(typeof field.description, `${section}.${name}`).toBe('string');
        expect(typeof field.title, `${section}.${name}`).toBe('string');
        if (field.type === 'number' || field.type === 'integer') {
          expect(field.minimum, `${section}.${name}`).toBeDefined();
          expect(field.maximum, `${section}.${name}`).toBeDefined();
        }
      }
    }
    expect(fields).toBeGreaterThan(30);
    const precision = schema.properties.training!.properties.precision!;
    expect(String(precision.description)).toMatch(/float16/);
  });

  it('gives the tuner its search space, learning rate log-scaled over 1e-6..1e-3', () => {
    const space = searchSpace();
    expect(space.find((d) => d.path === 'optimizer.learningRate')).toMatchObject({ min: 1e-6, max: 1e-3, scale: 'log' });
    expect(space.find((d) => d.path === 'decoder.embeddingDim')).toMatchObject({ min: 128, max: 384, integer: true });
    expect(space.find((d) => d.path === 'decoder.units')).toMatchObject({ min: 128, max: 512 });
    expect(space.find((d) => d.path === 'decoder.dropout')).toMatchObject({ min: 0.1, max: 0.6 });
    expect(space.find((d) => d.path === 'training.batchSize')).toMatchObject({ min: 16, max: 128 });
  });

  it("resolves batchSize 'auto' to 32 when it fits, smaller when not", () => {
    expect(resolveBatchSize('auto', () => true)).toBe(32);
    expect(resolveBatchSize('auto', (b) => b <= 16)).toBe(16);
    expect(resolveBatchSize(64, () => false)).toBe(64);
  });
});
