import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { setGraphSteps } from '../../src/main/ml/graph/graphSteps';
import { useTestBackend } from '../helpers/captionModel';
import { stepLosses, tensorCountsOver, tinyConfig, tinyWorkspace, trainTiny, type TinyWorkspace } from '../helpers/trainingRun';

let workspace: TinyWorkspace;
beforeAll(async () => {
  await useTestBackend();
  workspace = await tinyWorkspace();
});

const config = (wordDropout: number, epochs = 2) =>
  tinyConfig(workspace.dataset, (c) => {
    c.decoder.variant = 'attention';
    c.training.epochs = epochs;
    c.training.wordDropout = wordDropout;
  });

describe('training with word dropout', () => {
  it('changes what the decoder reads from the first step, and a stopped run resumes with the same words hidden', async () => {
    // Eager steps on both sides: a step replayed as a graph can differ from an eager one in a weight's last bit.
    setGraphSteps(false);
    onTestFinished(() => setGraphSteps(null));
    const plain = await trainTiny(workspace, config(0), { maxSteps: 6 });
    const straight = await trainTiny(workspace, config(0.3), { maxSteps: 6 });
    const plainLosses = stepLosses(plain.events);
    const losses = stepLosses(straight.events);
    expect(losses).toHaveLength(6);
    expect(losses[0]).not.toBe(plainLosses[0]);

    const first = await trainTiny(workspace, config(0.3), { maxSteps: 3 });
    expect(first.result.outcome).toBe('stopped');
    const resumed = await trainTiny(workspace, config(0.3), { maxSteps: 3, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
    expect(resumed.result.globalStep).toBe(6);
    expect([...stepLosses(first.events), ...stepLosses(resumed.events)]).toEqual(losses);
  });

  it('keeps the tensor count flat over many steps', async () => {
    const counts = await tensorCountsOver(workspace, config(0.3, 5), 12);
    expect(new Set(counts.perStep).size).toBe(1);
    expect(counts.after).toBe(counts.before);
  });
});
