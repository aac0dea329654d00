/**
 * `training.converseRelations` reaches the trainer: on captions that are one
 * relation each, the first step's loss changes with it, and a stopped run
 * resumes with the same rows told from the other object.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { setGraphSteps } from '../../src/main/ml/graph/graphSteps';
import { useTestBackend } from '../helpers/captionModel';
import { writeTinyDataset } from '../helpers/tinyDataset';
import { stepLosses, tinyConfig, trainTiny, type TinyWorkspace } from '../helpers/trainingRun';

let workspace: TinyWorkspace;
beforeAll(async () => {
  await useTestBackend();
  const root = mkdtempSync(join(tmpdir(), 'captioner-converse-'));
  const dataset = await writeTinyDataset(join(root, 'data'));
  // Every caption becomes one relation between the image's shape and another.
  const file = join(dataset, 'captions.jsonl');
  const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { captions: string[] });
  const related = lines.map((line) => {
    const [, colour, shape] = line.captions[0]!.split(' ');
    return JSON.stringify({ ...line, captions: [`a ${colour} ${shape} left of a big cross`, `a big cross right of a ${colour} ${shape}`] });
  });
  writeFileSync(file, `${related.join('\n')}\n`);
  workspace = { root, dataset };
});

const config = (converseRelations: boolean) =>
  tinyConfig(workspace.dataset, (c) => {
    c.decoder.variant = 'attention';
    c.training.epochs = 2;
    c.training.converseRelations = converseRelations;
  });

describe('training with converse relations', () => {
  it('changes what the first step learns from, and a stopped run resumes with the same captions told', async () => {
    // Eager steps on both sides: a step replayed as a graph can differ from an eager one in a weight's last bit.
    setGraphSteps(false);
    onTestFinished(() => setGraphSteps(null));
    const plain = await trainTiny(workspace, config(false), { maxSteps: 4 });
    const straight = await trainTiny(workspace, config(true), { maxSteps: 4 });
    const losses = stepLosses(straight.events);
    expect(losses).toHaveLength(4);
    expect(losses[0]).not.toBe(stepLosses(plain.events)[0]);

    const first = await trainTiny(workspace, config(true), { maxSteps: 2 });
    expect(first.result.outcome).toBe('stopped');
    const resumed = await trainTiny(workspace, config(true), { maxSteps: 2, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
    expect([...stepLosses(first.events), ...stepLosses(resumed.events)]).toEqual(losses);
  });
});
