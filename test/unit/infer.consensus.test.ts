/**
 * Consensus decoding. Mirror consensus: the caption chosen is the candidate
 * of either view with the best score on both views, mirrored words read
 * through the map; with an image that is its own mirror it is beam search's
 * own choice. Converse consensus: the candidate whose own and converse
 * readings score best together, on one view or both. Both free every
 * tensor; evaluation's loop, the batch pipeline and explanations choose the
 * same captions, while settings they cannot honour are refused. Relation
 * search: every candidate's alternatives join the candidates, ranked at the
 * length of the candidate they came from.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodingFromFlags, describeDecoding } from '../../src/main/cli/decodingOptions';
import { listFolder } from '../../src/main/lib/batch/listFolder';
import { captionPipeline, type PipelineCaption } from '../../src/main/ml/batch/pipeline';
import { captionFiles } from '../../src/main/ml/captioning/captionImages';
import { completeDecoding } from '../../src/main/ml/captioning/decoding';
import type { InferenceModel } from '../../src/main/ml/captioning/model';
import { checkDecoding, disposeViews, encodeViews } from '../../src/main/ml/captioning/views';
import { explainWithModel } from '../../src/main/ml/explain/explainCaption';
import { beamHypotheses } from '../../src/main/ml/explain/nbest';
import { replayCaption } from '../../src/main/ml/explain/replay';
import { decode } from '../../src/main/ml/infer/decode';
import { consensusDecode, type ConsensusReadings } from '../../src/main/ml/infer/consensus';
import { exportPackage } from '../../src/main/ml/packages/exportPackage';
import type { BeamOptions, GreedyOptions } from '../../src/main/ml/infer/types';
import type { ConverseIds } from '../../src/main/lib/data/text/converse';
import type { CaptionDecoder, DecoderFeatures } from '../../src/main/ml/model/decoder';
import { configFromPreset } from '../../src/shared/runConfig';
import { ApiError } from '../../src/shared/errors';
import { randomInferenceModel } from '../helpers/batchModel';
import { writeBatchFolder, type BatchFolder } from '../helpers/batchFolder';
import { disposeFeatures, tinyDecoder, tinyFeatures, useTestBackend } from '../helpers/captionModel';
import { tempDir } from '../helpers/datasetFixtures';

const BEAM: BeamOptions = { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, minLength: 1, maxLength: 7, noRepeatNgramSize: 0 };
const GREEDY: GreedyOptions = { strategy: 'greedy', minLength: 1, maxLength: 7, noRepeatNgramSize: 0 };
const VOCAB = 13;
const identity = Int32Array.from({ length: VOCAB }, (_, id) => id);
/** Words 5 and 6 play "left" and "right". */
const swapping = Int32Array.from({ length: VOCAB }, (_, id) => (id === 5 ? 6 : id === 6 ? 5 : id));

let dir: string;
let cleanup: () => void;
let folder: BatchFolder;
beforeAll(async () => {
  await useTestBackend();
  ({ dir, cleanup } = tempDir('captioner-mirror-'));
  folder = await writeBatchFolder(join(dir, 'tree'));
});
afterAll(() => cleanup());

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const row = (features: DecoderFeatures, i: number): DecoderFeatures => ({ pooled: features.pooled!.slice([i, 0], [1, -1]), grid: features.grid!.slice([i, 0, 0], [1, -1, -1]) });

/**
 * Consensus that adds nothing (an image that is its own mirror, no converse,
 * no alternatives) chooses what beam search and greedy decoding choose.
 */
function expectsPlainChoice(mirror: boolean, readings: ConsensusReadings): void {
  const decoder = tinyDecoder({ variant: 'attention' }, 4);
  const features = tinyFeatures(3, 17);
  for (const options of [BEAM, GREEDY]) {
    const plain = decode(decoder, features, options).map((caption) => caption.tokens);
    const chosen = consensusDecode(decoder, { features, mirrored: mirror ? features : null }, options, readings);
    expect(chosen.map((caption) => caption.tokens)).toEqual(plain);
  }
  disposeFeatures(features);
  decoder.dispose();
}

describe('mirror consensus', () => {
  it('chooses what beam search and greedy decoding choose when the image is its own mirror and no word has a mirror', () => {
    expectsPlainChoice(true, { mirror: identity, converse: null });
  });

  it("chooses the candidate of either view with the best score on both, reading the mirror's captions through the word map", () => {
    const decoder = tinyDecoder({ variant: 'attention' }, 6);
    const features = tinyFeatures(3, 21);
    const mirrored = tinyFeatures(3, 22);
    const before = tf.memory().numTensors;
    const chosen = consensusDecode(decoder, { features, mirrored }, BEAM, { mirror: swapping, converse: null });
    expect(tf.memory().numTensors).toBe(before);
    const mirror = (tokens: readonly number[]) => tokens.map((id) => swapping[id]!);
    for (let i = 0; i < 3; i++) {
      const own = row(features, i);
      const other = row(mirrored, i);
      const candidates = [...beamHypotheses(decoder, own, BEAM).map((h) => h.tokens), ...beamHypotheses(decoder, other, BEAM).map((h) => mirror(h.tokens))];
      const scoreOf = (tokens: number[]) => (sum(replayCaption(decoder, own, tokens).tokenLogProbs) + sum(replayCaption(decoder, other, mirror(tokens)).tokenLogProbs)) / 2 / (tokens.length + 1);
      const best = Math.max(...candidates.map(scoreOf));
      expect(candidates.map((tokens) => tokens.join(','))).toContain(chosen[i]!.tokens.join(','));
      expect(chosen[i]!.score).toBeCloseTo(best, 5);
      // What the caption is said to cost is its log-probability on the image itself.
      expect(chosen[i]!.logProb).toBeCloseTo(sum(replayCaption(decoder, own, chosen[i]!.tokens).tokenLogProbs), 5);
      expect(chosen[i]!.tokenLogProbs).toHaveLength(chosen[i]!.tokens.length + 1);
      tf.dispose([own.pooled!, own.grid!, other.pooled!, other.grid!]);
    }
    expect(() => consensusDecode(decoder, { features, mirrored: row(mirrored, 0) }, BEAM, { mirror: swapping, converse: null })).toThrow('one mirrored image per image (3 images, 1 mirrored)');
    tf.dispose([features.pooled!, features.grid!, mirrored.pooled!, mirrored.grid!]);
    decoder.dispose();
  });
});

const IMAGES = 8;
/** A stand-in for the converse: a caption of two words or more read backwards, its first word standing for its first object; a shorter one has none. */
const backwards = (tokens: readonly number[]): ConverseIds | null => (tokens.length >= 2 ? { ids: [...tokens].reverse(), relationAt: 1, converseRelationAt: 1 } : null);
/**
 * What the converse reading of `tokens` adds up to on a view, its words read
 * through `words` (the mirror's map on the mirror view): the caption's own
 * first word (its first object), then the converse from its second word
 * (its relation) on; the caption itself when it has no converse.
 */
function converseLogP(decoder: CaptionDecoder, view: DecoderFeatures, tokens: number[], words = (ids: number[]) => ids): number {
  const reading = backwards(tokens);
  const own = replayCaption(decoder, view, words(tokens)).tokenLogProbs;
  if (!reading) return sum(own);
  return sum(own.slice(0, reading.relationAt)) + sum(replayCaption(decoder, view, words(reading.ids)).tokenLogProbs.slice(reading.converseRelationAt));
}

describe('converse consensus', () => {
  it('chooses what beam search and greedy decoding choose when no caption has a converse', () => {
    expectsPlainChoice(false, { mirror: null, converse: () => null });
  });

  it('chooses the candidate whose own and converse readings score best together, on the image and, with the mirror, on the mirror too', () => {
    const decoder = tinyDecoder({ variant: 'attention' }, 6);
    const features = tinyFeatures(IMAGES, 21);
    const mirrored = tinyFeatures(IMAGES, 22);
    const mirror = (tokens: readonly number[]) => tokens.map((id) => swapping[id]!);
    const before = tf.memory().numTensors;
    const alone = consensusDecode(decoder, { features, mirrored: null }, BEAM, { mirror: null, converse: backwards });
    const both = consensusDecode(decoder, { features, mirrored }, BEAM, { mirror: swapping, converse: backwards });
    expect(tf.memory().numTensors).toBe(before);
    let differs = false;
    for (let i = 0; i < IMAGES; i++) {
      const own = row(features, i);
      const other = row(mirrored, i);
      const logP = (view: DecoderFeatures, tokens: number[]) => sum(replayCaption(decoder, view, tokens).tokenLogProbs);
      const ownCandidates = beamHypotheses(decoder, own, BEAM).map((h) => h.tokens);
      const allCandidates = [...ownCandidates, ...beamHypotheses(decoder, other, BEAM).map((h) => mirror(h.tokens))];
      // The mean over the readings, per word.
      const aloneScore = (tokens: number[]) => (logP(own, tokens) + converseLogP(decoder, own, tokens)) / 2 / (tokens.length + 1);
      const bothScore = (tokens: number[]) =>
        (logP(own, tokens) + logP(other, mirror(tokens)) + converseLogP(decoder, own, tokens) + converseLogP(decoder, other, tokens, mirror)) / 4 / (tokens.length + 1);
      expect(ownCandidates.map((tokens) => tokens.join(','))).toContain(alone[i]!.tokens.join(','));
      expect(alone[i]!.score).toBeCloseTo(Math.max(...ownCandidates.map(aloneScore)), 4);
      expect(allCandidates.map((tokens) => tokens.join(','))).toContain(both[i]!.tokens.join(','));
      expect(both[i]!.score).toBeCloseTo(Math.max(...allCandidates.map(bothScore)), 4);
      // What the caption is said to cost is its log-probability on the image itself.
      expect(both[i]!.logProb).toBeCloseTo(logP(own, both[i]!.tokens), 5);
      if (alone[i]!.tokens.join(',') !== decode(decoder, own, BEAM)[0]!.tokens.join(',')) differs = true;
      tf.dispose([own.pooled!, own.grid!, other.pooled!, other.grid!]);
    }
    // The converse reading changed at least one image's choice: the test would notice it being ignored.
    expect(differs).toBe(true);
    expect(() => consensusDecode(decoder, { features, mirrored: null }, BEAM, { mirror: swapping, converse: null })).toThrow('needs the features of the mirrored images');
    tf.dispose([features.pooled!, features.grid!, mirrored.pooled!, mirrored.grid!]);
    decoder.dispose();
  });
});

/**
 * A stand-in for relation alternatives: a caption of two words or more with
 * its first word replaced by each of 4..9, and without its last word. The
 * shorter one, ranked at its candidate's length, often wins: the test
 * tells that rank from one at its own length.
 */
const wordSwapped = (tokens: readonly number[]): number[][] =>
  tokens.length < 2 ? [] : [...[4, 5, 6, 7, 8, 9].filter((id) => id !== tokens[0]).map((id) => [id, ...tokens.slice(1)]), tokens.slice(0, -1)];

describe('relation search', () => {
  it("chooses the best of the candidates and their alternatives, each alternative ranked at its candidate's length, with and without the readings", () => {
    const decoder = tinyDecoder({ variant: 'attention' }, 6);
    const features = tinyFeatures(IMAGES, 31);
    const before = tf.memory().numTensors;
    const searched = consensusDecode(decoder, { features, mirrored: null }, BEAM, { mirror: null, converse: null, alternatives: wordSwapped });
    const withConverse = consensusDecode(decoder, { features, mirrored: null }, BEAM, { mirror: null, converse: backwards, alternatives: wordSwapped });
    expect(tf.memory().numTensors).toBe(before);
    let alternativeChosen = false;
    for (let i = 0; i < IMAGES; i++) {
      const own = row(features, i);
      const logP = (tokens: number[]) => sum(replayCaption(decoder, own, tokens).tokenLogProbs);
      const candidates = beamHypotheses(decoder, own, BEAM).map((h) => h.tokens);
      // Each caption once, the first to bring it setting the length it is ranked at.
      const ranked = new Map<string, { tokens: number[]; length: number }>(candidates.map((tokens) => [tokens.join(','), { tokens, length: tokens.length }]));
      for (const tokens of candidates) for (const alternative of wordSwapped(tokens)) if (!ranked.has(alternative.join(','))) ranked.set(alternative.join(','), { tokens: alternative, length: tokens.length });
      const all = [...ranked.values()];
      const plainScore = ({ tokens, length }: { tokens: number[]; length: number }) => logP(tokens) / (length + 1);
      const converseScore = ({ tokens, length }: { tokens: number[]; length: number }) => (logP(tokens) + converseLogP(decoder, own, tokens)) / 2 / (length + 1);
      expect(all.map(({ tokens }) => tokens.join(','))).toContain(searched[i]!.tokens.join(','));
      expect(searched[i]!.score).toBeCloseTo(Math.max(...all.map(plainScore)), 4);
      expect(withConverse[i]!.score).toBeCloseTo(Math.max(...all.map(converseScore)), 4);
      expect(searched[i]!.logProb).toBeCloseTo(logP(searched[i]!.tokens), 5);
      if (!candidates.some((tokens) => tokens.join(',') === searched[i]!.tokens.join(','))) alternativeChosen = true;
      tf.dispose([own.pooled!, own.grid!]);
    }
    // An alternative won somewhere: the test would notice the alternatives being dropped.
    expect(alternativeChosen).toBe(true);
    tf.dispose([features.pooled!, features.grid!]);
    decoder.dispose();
  });

  it('is beam search itself when no candidate has an alternative', () => {
    expectsPlainChoice(false, { mirror: null, converse: null, alternatives: () => [] });
  });
});

describe('consensus through the captioning paths', () => {
  let model: InferenceModel;
  beforeAll(() => {
    model = randomInferenceModel({ seed: 8 });
  });
  afterAll(() => model.dispose());

  it("encodes the mirror as the encoder sees the image mirrored left to right", () => {
    const size = model.preprocessing.inputSize;
    const input = Float32Array.from({ length: 2 * size * size * 3 }, (_, i) => ((i * 7919) % 251) / 251);
    const mirroredInput = new Float32Array(input.length);
    for (let n = 0; n < 2; n++)
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++)
          for (let c = 0; c < 3; c++) mirroredInput[((n * size + y) * size + (size - 1 - x)) * 3 + c] = input[((n * size + y) * size + x) * 3 + c]!;
    const both = encodeViews(model, input, 2, true);
    const direct = encodeViews(model, mirroredInput, 2, false);
    expect(direct.mirrored).toBeNull();
    const a = Array.from(both.mirrored!.pooled!.dataSync());
    const b = Array.from(direct.features.pooled!.dataSync());
    a.forEach((value, i) => expect(value).toBeCloseTo(b[i]!, 5));
    expect(Array.from(both.features.pooled!.dataSync())).not.toEqual(a);
    disposeViews(both);
    disposeViews(direct);
  });

  it.each([
    { mirrorConsensus: true },
    { mirrorConsensus: true, converseConsensus: true },
    { converseConsensus: true },
    { relationSearch: true },
    { mirrorConsensus: true, converseConsensus: true, relationSearch: true },
  ])('gives the same captions in the evaluation loop, the batch pipeline and an explanation, and frees every tensor (%o)', async (consensus) => {
    const files: string[] = [];
    for await (const entry of listFolder({ folder: folder.root, recursive: true, include: [], exclude: [] })) if (entry.kind === 'image') files.push(entry.path);
    const decoding = completeDecoding({ strategy: 'beam', beamWidth: 2, ...consensus }, model.maxCaptionLength);
    const before = tf.memory().numTensors;
    const loop = await captionFiles(model, files, decoding, { batchSize: 3 });
    const pipeline: PipelineCaption[] = [];
    for await (const batch of captionPipeline(model, (async function* () {
      for (const path of files) yield { path, relativePath: path };
    })(), decoding, { batchSize: 4 })) pipeline.push(...batch);
    expect(tf.memory().numTensors).toBe(before);
    expect(pipeline.map((result) => result.caption)).toEqual(loop.map((result) => result.caption));
    const readable = loop.filter((result) => result.caption !== null);
    expect(readable.length).toBeGreaterThan(1);
    const explained = await explainWithModel(model, readable[0]!.file, { strategy: 'beam', beamWidth: 2, ...consensus }, 3);
    expect(explained.captions[0]!.chosen).toBe(true);
    expect(explained.captions[0]!.caption).toBe(readable[0]!.caption);
    expect(explained.decoding.mirrorConsensus).toBe(consensus.mirrorConsensus);
    expect(explained.decoding.converseConsensus).toBe(consensus.converseConsensus);
    expect(explained.decoding.relationSearch).toBe(consensus.relationSearch);
  });

  it('is refused with sampling, and for a model trained without the horizontal flip, naming the setting', () => {
    const sampling = completeDecoding({ strategy: 'sample', mirrorConsensus: true }, 8);
    expect(() => checkDecoding(model, sampling)).toThrow(ApiError);
    expect(() => checkDecoding(model, sampling)).toThrow('does not apply to sampling');
    expect(() => checkDecoding(model, completeDecoding({ strategy: 'sample', converseConsensus: true }, 8))).toThrow('decoding.converseConsensus chooses among greedy or beam-search captions');
    expect(() => checkDecoding(model, completeDecoding({ strategy: 'sample', relationSearch: true }, 8))).toThrow('decoding.relationSearch chooses among greedy or beam-search captions');
    const unflipped = { ...model, runConfig: configFromPreset('shapes-quick', { dataset: { path: '/data/shapes' } }) };
    try {
      checkDecoding(unflipped, completeDecoding({ mirrorConsensus: true }, 8));
      expect.unreachable('a model trained without the flip was accepted');
    } catch (error) {
      expect((error as ApiError).code).toBe('invalid_request');
      expect((error as ApiError).issues[0]!.path).toBe('decoding.mirrorConsensus');
      expect((error as Error).message).toContain('training.horizontalFlip');
    }
    // The flip asked for over frozen, cached features: training never mirrored anything.
    const frozen = { ...model, runConfig: configFromPreset('flickr8k-like', { dataset: { path: '/data/photos' }, training: { horizontalFlip: true } }) };
    expect(() => checkDecoding(frozen, completeDecoding({ mirrorConsensus: true }, 8))).toThrow('never saw a mirrored image');
    const fineTuned = { ...model, runConfig: configFromPreset('flickr8k-like', { dataset: { path: '/data/photos' }, training: { horizontalFlip: true }, encoder: { fineTune: { enabled: true } } }) };
    expect(() => checkDecoding(fineTuned, completeDecoding({ mirrorConsensus: true }, 8))).not.toThrow();
    const flipped = { ...model, runConfig: configFromPreset('shapes-grounded', { dataset: { path: '/data/shapes' } }) };
    expect(() => checkDecoding(flipped, completeDecoding({ mirrorConsensus: true }, 8))).not.toThrow();
    expect(() => checkDecoding(unflipped, completeDecoding({}, 8))).not.toThrow();
  });

  it("is refused as a package's default decoding, whose caption.mjs decodes each caption once on one view, before anything is written", async () => {
    const out = join(dir, 'refused-package');
    const exportWith = (consensus: { mirrorConsensus?: boolean; converseConsensus?: boolean; relationSearch?: boolean }) =>
      exportPackage({
        checkpointPath: join(dir, 'no-checkpoint-needed'),
        out,
        name: 'refused',
        overwrite: false,
        dataDir: dir,
        source: { runId: null, runName: null, checkpoint: null },
        decoding: { strategy: 'beam', beamWidth: 3, ...consensus },
        metrics: {},
        evaluation: null,
      });
    await expect(exportWith({ mirrorConsensus: true })).rejects.toThrow("A package's default decoding cannot use mirror consensus");
    await expect(exportWith({ converseConsensus: true })).rejects.toThrow("A package's default decoding cannot use converse consensus");
    await expect(exportWith({ relationSearch: true })).rejects.toThrow("A package's default decoding cannot use relation search");
    expect(existsSync(out)).toBe(false);
  });
});

describe('the command line', () => {
  it('reads --mirror-consensus into the decoding and says so when it describes one', () => {
    expect(decodingFromFlags({ beam: '5', 'mirror-consensus': true })).toEqual({ strategy: 'beam', beamWidth: 5, mirrorConsensus: true });
    expect(decodingFromFlags({ greedy: true })).toEqual({ strategy: 'greedy' });
    expect(describeDecoding(completeDecoding({ beamWidth: 5, mirrorConsensus: true }, 20))).toBe('beam 5, length penalty 1, length 1..20, mirror consensus');
    expect(describeDecoding(completeDecoding({}, 20))).toBe('beam 3, length penalty 1, length 1..20');
    expect(decodingFromFlags({ beam: '3', 'mirror-consensus': true, 'converse-consensus': true })).toEqual({ strategy: 'beam', beamWidth: 3, mirrorConsensus: true, converseConsensus: true });
    expect(describeDecoding(completeDecoding({ converseConsensus: true }, 20))).toBe('beam 3, length penalty 1, length 1..20, converse consensus');
    expect(describeDecoding(completeDecoding({ mirrorConsensus: true, converseConsensus: true }, 20))).toBe('beam 3, length penalty 1, length 1..20, mirror and converse consensus');
    expect(decodingFromFlags({ greedy: true, 'relation-search': true })).toEqual({ strategy: 'greedy', relationSearch: true });
    expect(describeDecoding(completeDecoding({ relationSearch: true }, 20))).toBe('beam 3, length penalty 1, length 1..20, relation search');
    expect(describeDecoding(completeDecoding({ mirrorConsensus: true, converseConsensus: true, relationSearch: true }, 20))).toBe(
      'beam 3, length penalty 1, length 1..20, mirror and converse consensus, relation search',
    );
  });
});
