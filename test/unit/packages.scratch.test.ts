/**
 * Exporting a model whose encoder is the scratch CNN with every option the
 * `shapes-grounded` preset turns on (a 5×5 stem at stride 2, grid directions
 * and coordinates; the word in the attention query and the word glimpse),
 * with and without grid cells convolved apart, and with the word glimpse led
 * by 4 words:
 * config.json records them, and the checkpoint, the loaded package and the
 * package's caption.mjs caption images identically.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import { CaptionDecoder } from '../../src/main/ml/model/decoder';
import { addedChannels, ScratchCnn } from '../../src/main/ml/model/encoders/scratchCnn';
import { Rng } from '../../src/main/ml/model/rng';
import { loadPackageModel } from '../../src/main/ml/packages/loadPackage';
import { runConfigSchema } from '../../src/shared/runConfig';
import { useTestBackend } from '../helpers/captionModel';
import { tempDir } from '../helpers/evalFixtures';
import { randomImageFiles } from '../helpers/imageFiles';
import { captionThreeWays, exportTestPackage, writeTestCheckpoint } from '../helpers/packageCaptions';

beforeAll(useTestBackend);

describe('model package with the scratch CNN', () => {
  it.each([
    [undefined, false, 2, false],
    [3, false, 2, false],
    [2, true, 2, false],
    [3, false, 4, false],
    [3, false, 2, true],
  ] as const)('records a strided stem, directions, coordinates, grid cells (%s), separate cells (%s), the words leading the glimpse (%s) and coverage (%s), and captions like the checkpoint in the engine and in caption.mjs', async (gridCells, separateCells, glimpseWords, coverage) => {
    const dir = tempDir('captioner-scratch-');
    const vocabulary = Vocabulary.build([['a', 'red', 'circle'], ['a', 'blue', 'square', 'left', 'of'], ['two', 'shapes', 'above']], { minCount: 1 });
    const encoderOptions = { inputSize: 64, channels: 4, stemStride: 2, coordinates: true, directions: true, gridCells, separateCells } as const;
    const config = runConfigSchema.parse({
      dataset: { path: join(dir, 'unused') },
      encoder: { source: 'scratch-cnn', imageSize: 64, scratchChannels: 4, scratchStemStride: 2, gridCoordinates: true, gridDirections: true, scratchGridCells: gridCells ?? 0, scratchSeparateCells: separateCells },
      decoder: { variant: 'attention', embeddingDim: 128, units: 128, attentionDim: 32, attentionWordQuery: true, attentionWordGlimpse: true, attentionGlimpseWords: glimpseWords, attentionCoverage: coverage },
      vocab: { maxCaptionLength: 6 },
    });
    const encoder = new ScratchCnn(encoderOptions, new Rng(2));
    const decoder = new CaptionDecoder(
      {
        variant: 'attention',
        cell: 'lstm',
        layers: 1,
        vocabSize: vocabulary.size,
        embeddingDim: 128,
        units: 128,
        dropout: 0,
        attentionDim: 32,
        doublyStochasticWeight: 0,
        featureDim: encoder.spec.pooledDim,
        addedChannels: addedChannels(encoderOptions),
        wordQuery: true,
        wordGlimpse: true,
        glimpseWords,
        coverage,
      },
      new Rng(3),
    );
    // Weights that start at zero get values, so a package that dropped one would caption differently.
    for (const [name, variable] of decoder.params.entries()) {
      if (tf.tidy(() => tf.max(tf.abs(variable)).dataSync()[0]) === 0) variable.assign(tf.randomUniform(variable.shape, -0.5, 0.5, 'float32', name.length));
    }
    const checkpoint = await writeTestCheckpoint(dir, {
      config,
      decoder,
      encoder: { id: 'scratch-cnn', inputSize: 64, normalization: 'zero-to-one', channels: 4, stemStride: 2, coordinates: true, directions: true, ...(gridCells ? { gridCells } : {}), ...(separateCells ? { separateCells } : {}), source: null, featureLayer: null, weightsIncluded: true },
      vocabulary,
      encoderParams: encoder.params,
    });
    decoder.dispose();
    encoder.dispose();

    const { out } = await exportTestPackage(checkpoint, dir, 'scratch-model');
    const written = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { encoder: Record<string, unknown>; decoder: Record<string, unknown> };
    expect(written.decoder.glimpseWords).toBe(glimpseWords === 2 ? undefined : glimpseWords);
    expect(written.decoder.coverage).toBe(coverage ? true : undefined);
    const cells = gridCells ?? 4;
    expect(written.encoder).toMatchObject({ kind: 'scratch-cnn', inputSize: 64, stemStride: 2, coordinates: true, directions: true, gridShape: [cells, cells, 32 + 34] });
    expect(written.encoder.gridCells).toBe(gridCells);
    expect(written.encoder.separateCells).toBe(separateCells);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    expect(readme).toContain('the first 5x5 at stride 2');
    expect(readme.includes(`max-pooled to ${cells}x${cells} cells`)).toBe(gridCells !== undefined && !separateCells);
    expect(readme.includes(`cut into ${cells}x${cells} tiles, each convolved alone`)).toBe(separateCells);

    const captions = await captionThreeWays(checkpoint, out, dir, await randomImageFiles(dir), 6);
    expect(captions.checkpoint.every((caption) => typeof caption === 'string' && caption.length > 0)).toBe(true);
    expect(captions.package).toEqual(captions.checkpoint);
    expect(captions.script).toEqual(captions.checkpoint);
    const loaded = await loadPackageModel(out);
    expect(loaded.encoderRecord.stemStride).toBe(2);
    expect(loaded.encoderRecord.gridCells).toBe(gridCells);
    expect(loaded.encoderRecord.separateCells ?? false).toBe(separateCells);
    expect(loaded.encoder.spec.gridShape[0]).toBe(cells);
    expect(loaded.decoder.params.has('attention/coverageKernel')).toBe(coverage);
    loaded.dispose();

    // Separate cells without the cell count is refused by name rather than read as one convolved image.
    const { gridCells: _dropped, ...withoutCells } = written.encoder;
    writeFileSync(join(out, 'config.json'), JSON.stringify({ ...written, encoder: { ...withoutCells, separateCells: true } }));
    await expect(loadPackageModel(out)).rejects.toThrow(/\$\.encoder\.separateCells needs \$\.encoder\.gridCells/);
  });
});
