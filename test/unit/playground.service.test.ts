/**
 * `playground.*` through the validated API of a real workbench, with an
 * engine that answers `explain.caption` from a script: uploads (format by
 * content, size limit, content-addressed files), the models offered, and
 * several models captioning one image with one failing on its own.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/main/api/handlers';
import { confidenceOf } from '../../src/main/playground/service';
import { sniffImageFormat } from '../../src/main/playground/uploads';
import type { MethodName, RequestOf, ResponseOf } from '../../src/shared/contract';
import { MAX_UPLOAD_BASE64 } from '../../src/shared/contract/playground';
import { ApiError } from '../../src/shared/errors';
import type { CaptionExplanation } from '../../src/shared/galleryTypes';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import { fakeSpawner } from '../helpers/fakeEngine';
import { tempDataDir } from '../helpers/storeFixtures';
import type { JsonObject } from '../../src/shared/storeTypes';

let data: ReturnType<typeof tempDataDir>;
let workbench: Workbench;
let explained: Array<Record<string, unknown>>;

function explanation(image: string, caption: string, logProbs: number[]): CaptionExplanation {
  const words = [...caption.split(' '), '<end>'].map((word, index) => ({ word, tokenId: index + 4, logProb: logProbs[index]!, attention: [0.25, 0.25, 0.25, 0.25], uniformity: 1 }));
  const logProb = logProbs.reduce((a, b) => a + b, 0);
  return {
    image,
    decoding: { strategy: 'beam', beamWidth: 3, lengthPenalty: 1, minLength: 1, maxLength: 12, noRepeatNgramSize: 0, temperature: 1, topK: 0, topP: 1, seed: 0 },
    variant: 'attention',
    hasAttention: true,
    grid: { rows: 2, cols: 2 },
    fit: 'squash',
    captions: [
      { caption, words, logProb, score: logProb, chosen: true },
      { caption: 'an alternative', words: words.slice(0, 2), logProb: logProb - 1, score: logProb - 1, chosen: false },
    ],
    diagnosis: { meanUniformity: 1, nearlyUniform: true, threshold: 0.95 },
    seconds: 0.01,
  };
}

beforeEach(() => {
  data = tempDataDir('playground-');
  explained = [];
  workbench = createWorkbench({
    dataDir: data.dir,
    echoLogs: false,
    spawnEngine: fakeSpawner((call, reply) => {
      if (call.method !== 'explain.caption') return reply({ type: 'error', id: call.id, error: { code: 'internal', message: `unexpected ${call.method}` } });
      const params = call.params as { model: { kind: string; path?: string; dir?: string }; image: string };
      explained.push(call.params as Record<string, unknown>);
      if (params.model.path?.includes('broken')) return reply({ type: 'error', id: call.id, error: { code: 'internal', message: 'checkpoint.json is unreadable' } });
      reply({ type: 'result', id: call.id, value: explanation(params.image, 'a red circle', [-0.1, -0.2, -0.3, -0.4]) });
    }),
  });
});

afterEach(async () => {
  await workbench.close();
  data.remove();
});

async function call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
  const envelope = await dispatch(workbench.handlers, method, request, { transport: 'websocket' });
  if (!envelope.ok) throw ApiError.fromData(envelope.error);
  return envelope.value as ResponseOf<M>;
}

const png = () => sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toBuffer();

describe('playground.upload', () => {
  it('stores an image by its content under uploads/, once, whatever its name says', async () => {
    const bytes = await png();
    const first = await call('playground.upload', { name: 'holiday photo.jpg', data: bytes.toString('base64') });
    expect(first).toMatchObject({ name: 'holiday photo.jpg', format: 'png', bytes: bytes.length, existed: false });
    expect(first.path.startsWith(join(data.dir, 'uploads'))).toBe(true);
    expect(first.path).toMatch(/\/[0-9a-f]{32}\.png$/);
    expect(readFileSync(first.path).equals(bytes)).toBe(true);
    const again = await call('playground.upload', { name: 'copy.png', data: bytes.toString('base64') });
    expect(again).toMatchObject({ path: first.path, existed: true });
    // The media route serves it.
    expect(workbench.services.mediaRoots.resolve(first.path)).toBe(first.path);
  });

  it('refuses what is not an image, what is not base64 and what is too large, naming the field', async () => {
    await expect(call('playground.upload', { name: 'notes.png', data: Buffer.from('just some text').toString('base64') })).rejects.toMatchObject({
      code: 'invalid_request',
      message: expect.stringContaining('notes.png: not an image'),
    });
    await expect(call('playground.upload', { name: 'x.png', data: 'not base64!' })).rejects.toMatchObject({ code: 'invalid_request', issues: [{ path: 'data' }] });
    await expect(call('playground.upload', { name: 'x.png', data: 'A'.repeat(MAX_UPLOAD_BASE64 + 4) })).rejects.toMatchObject({ code: 'invalid_request', issues: [{ path: 'data' }] });
    expect(existsSync(join(data.dir, 'uploads'))).toBe(false);
  });

  it('knows the formats by their leading bytes', async () => {
    expect(sniffImageFormat(await png())?.format).toBe('png');
    expect(sniffImageFormat(await sharp(await png()).jpeg().toBuffer())?.format).toBe('jpeg');
    expect(sniffImageFormat(await sharp(await png()).webp().toBuffer())?.format).toBe('webp');
    expect(sniffImageFormat(Buffer.from('GIF89a......'))?.format).toBe('gif');
    expect(sniffImageFormat(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
  });
});

describe('playground.models and playground.caption', () => {
  async function seedRun(name: string, folder: string, config: Record<string, unknown> = {}) {
    const { store } = workbench.services;
    const run = await store.runs.create({ name, config: config as JsonObject });
    const dir = await store.runs.directory(run.id);
    const first = await store.checkpoints.add({ runId: run.id, epoch: 1, step: 10, path: join(dir, `${folder}-1`), metrics: { 'val/loss': 2 }, isBest: true });
    const last = await store.checkpoints.add({ runId: run.id, epoch: 2, step: 20, path: join(dir, `${folder}-2`), metrics: { 'val/loss': 2.5 } });
    return { run, first, last };
  }

  it('offers the best and latest checkpoint of each run', async () => {
    const { run, first, last } = await seedRun('small', 'good');
    const models = await call('playground.models', {});
    expect(models.packages).toEqual([]);
    expect(models.checkpoints.map((checkpoint) => [checkpoint.runId, checkpoint.checkpointId, checkpoint.epoch, checkpoint.isBest])).toEqual([
      [run.id, first.id, 1, true],
      [run.id, last.id, 2, false],
    ]);
    // A config without a decoding section recommends nothing; a run's own recommendation comes with each of its checkpoints.
    expect(models.checkpoints[0]!.recommended).toEqual({ mirrorConsensus: false, converseConsensus: false, relationSearch: false });
    const recommending = await seedRun('grounded', 'grounded', { decoding: { mirrorConsensus: true, relationSearch: true } });
    const again = await call('playground.models', {});
    expect(again.checkpoints.filter((checkpoint) => checkpoint.runId === recommending.run.id).map((checkpoint) => checkpoint.recommended)).toEqual([
      { mirrorConsensus: true, converseConsensus: false, relationSearch: true },
      { mirrorConsensus: true, converseConsensus: false, relationSearch: true },
    ]);
  });

  it('captions one image with several models, each with confidence, alternatives and attention; a failing model fails alone', async () => {
    const good = await seedRun('small', 'good');
    const broken = await seedRun('large', 'broken');
    const image = await call('playground.upload', { name: 'a.png', data: (await png()).toString('base64') });
    const answer = await call('playground.caption', {
      image: image.path,
      models: [
        { kind: 'checkpoint', runId: good.run.id, checkpoint: 'best' },
        { kind: 'checkpoint', runId: good.run.id, checkpoint: 'last' },
        { kind: 'checkpoint', runId: broken.run.id },
        { kind: 'package', name: 'not-imported' },
      ],
      decoding: { strategy: 'beam', beamWidth: 4 },
      alternatives: 3,
    });
    expect(answer.image).toBe(image.path);
    expect(answer.results.map((result) => [result.label, result.error === null])).toEqual([
      ['small · epoch 1 (best)', true],
      ['small · epoch 2', true],
      ['large · epoch 1 (best)', false],
      ['not-imported', false],
    ]);
    const [best] = answer.results;
    expect(best!.explanation!.captions[0]!.caption).toBe('a red circle');
    expect(best!.explanation!.captions).toHaveLength(2);
    expect(best!.confidence).toBeCloseTo(Math.exp(-1 / 4), 12);
    expect(answer.results[2]!.error).toContain('checkpoint.json is unreadable');
    expect(answer.results[3]!.error).toMatch(/No model "not-imported"/);
    // What the engine was asked: the checkpoint folders, the image, the decoding and the number of alternatives.
    expect(explained.map((params) => (params.model as { path: string }).path)).toEqual([good.first.path, good.last.path, broken.first.path]);
    expect(explained[0]).toMatchObject({ image: image.path, decoding: { strategy: 'beam', beamWidth: 4 }, alternatives: 3, dataDir: data.dir });
  });

  it('refuses an image outside the folders the workbench opened', async () => {
    const outside = join(data.dir, '..', `outside-${Date.now()}.png`);
    writeFileSync(outside, await png());
    await seedRun('small', 'good');
    try {
      await expect(call('playground.caption', { image: outside, models: [{ kind: 'checkpoint', runId: 1 }] })).rejects.toMatchObject({ code: 'invalid_request', issues: [{ path: 'image' }] });
    } finally {
      rmSync(outside, { force: true });
    }
    mkdirSync(join(data.dir, 'folder'), { recursive: true });
    await expect(call('playground.caption', { image: join(data.dir, 'folder'), models: [{ kind: 'checkpoint', runId: 1 }] })).rejects.toMatchObject({ code: 'invalid_request' });
    expect(explained).toHaveLength(0);
  });

  it('computes confidence as the geometric mean word probability', () => {
    const value = confidenceOf(explanation('x', 'two words', [Math.log(0.5), Math.log(0.5), Math.log(0.5)]));
    expect(value).toBeCloseTo(0.5, 12);
  });
});
