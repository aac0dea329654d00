import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/main/ml/train/checkpoint';
import { learningRateAt } from '../../src/main/ml/train/schedule';
import type { TrainingEvent, TrainingStep } from '../../src/shared/trainingTypes';
import { useTestBackend } from '../helpers/captionModel';
import { stepLosses, tensorCountsOver, tinyConfig, tinyWorkspace, trainTiny, type TinyWorkspace } from '../helpers/trainingRun';

let workspace: TinyWorkspace;
beforeAll(async () => {
  await useTestBackend();
  workspace = await tinyWorkspace();
});


/** Every weight of a checkpoint, by name. */
async function weightsOf(path: string): Promise<Map<string, Float32Array>> {
  const checkpoint = await readCheckpoint(path);
  const all = [...checkpoint.weights, ...(checkpoint.optimizer?.m ?? []).map((t) => ({ ...t, name: `m:${t.name}` })), ...(checkpoint.optimizer?.v ?? []).map((t) => ({ ...t, name: `v:${t.name}` }))];
  return new Map(all.map((tensor) => [tensor.name, tensor.data]));
}

describe('training loop', () => {
  it('trains, validates every epoch, and writes epoch and best checkpoints', async () => {
    const { result, events, runDir } = await trainTiny(workspace, tinyConfig(workspace.dataset, (c) => (c.training.epochs = 2)));
    expect(result.outcome).toBe('completed');
    expect(result.epochsCompleted).toBe(2);
    const epochs = events.filter((event) => event.kind === 'epoch');
    expect(epochs).toHaveLength(2);
    for (const epoch of epochs) {
      if (epoch.kind !== 'epoch') continue;
      expect(Number.isFinite(epoch.valLoss)).toBe(true);
      expect(epoch.bleu4).toBeGreaterThanOrEqual(0);
      expect(epoch.samples).toHaveLength(2);
    }
    const names = readdirSync(join(runDir, 'checkpoints')).sort();
    expect(names).toEqual(['best', 'epoch-0001', 'epoch-0002']);
    const last = await readCheckpoint(result.lastCheckpoint!);
    expect(last.json.state.epochsCompleted).toBe(2);
    expect(last.json.state.history.map((h) => h.epoch)).toEqual([1, 2]);
    expect(last.json.vocabulary.tokens.slice(0, 4)).toEqual(['<pad>', '<start>', '<end>', '<unk>']);
  });

  it('is reproducible: the same seed gives the same loss curve, another seed another', async () => {
    const config = tinyConfig(workspace.dataset, (c) => {
      c.decoder.dropout = 0.3;
      c.training.scheduledSampling = 0.3;
      c.training.scheduledSamplingRampEpochs = 1;
    });
    const a = await trainTiny(workspace, config, { maxSteps: 5, stepsOnly: true });
    const b = await trainTiny(workspace, config, { maxSteps: 5, stepsOnly: true });
    const c = await trainTiny(workspace, { ...config, training: { ...config.training, seed: 8 } }, { maxSteps: 5, stepsOnly: true });
    expect(stepLosses(a.events)).toHaveLength(5);
    expect(stepLosses(b.events)).toEqual(stepLosses(a.events));
    expect(stepLosses(c.events)).not.toEqual(stepLosses(a.events));
  });

  for (const variant of ['merge', 'attention'] as const) {
    it(`${variant}: stopping after 3 steps and resuming gives exactly the weights of 6 uninterrupted steps`, async () => {
      const config = tinyConfig(workspace.dataset, (c) => {
        c.decoder.variant = variant;
        c.decoder.dropout = 0.25;
        c.optimizer.name = 'adamw';
        c.schedule.kind = 'cosine';
        c.schedule.warmupEpochs = 0.5;
        c.training.labelSmoothing = 0.1;
        c.training.scheduledSampling = 0.2;
        c.training.scheduledSamplingRampEpochs = 1;
      });
      // 32 training captions in batches of 8: 4 steps an epoch, so 6 steps cross an epoch end (and its validation).
      const straight = await trainTiny(workspace, config, { maxSteps: 6 });
      const first = await trainTiny(workspace, config, { maxSteps: 3 });
      expect(first.result.outcome).toBe('stopped');
      const resumed = await trainTiny(workspace, config, { maxSteps: 3, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
      expect(resumed.result.globalStep).toBe(6);
      expect(stepLosses([...first.events, ...resumed.events])).toEqual(stepLosses(straight.events));
      const a = await weightsOf(straight.result.lastCheckpoint!);
      const b = await weightsOf(resumed.result.lastCheckpoint!);
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [name, values] of a) expect(Array.from(b.get(name)!), name).toEqual(Array.from(values));
    });
  }

  it('stops on its signal after the current step, with a resumable checkpoint', async () => {
    const controller = new AbortController();
    const { result } = await trainTiny(workspace, tinyConfig(workspace.dataset), {
      signal: controller.signal,
      onEvent: (event) => {
        if (event.kind === 'step' && event.globalStep === 2) controller.abort();
      },
    });
    expect(result.outcome).toBe('stopped');
    expect(result.globalStep).toBe(2);
    expect(result.lastCheckpoint).toMatch(/step-0000002$/);
    const checkpoint = await readCheckpoint(result.lastCheckpoint!);
    expect(checkpoint.json.state.stepInEpoch).toBe(2);
    expect(checkpoint.optimizer?.step).toBe(2);
  });

  it('keeps the tensor count flat over many steps', async () => {
    const counts = await tensorCountsOver(workspace, tinyConfig(workspace.dataset, (c) => ((c.decoder.variant = 'attention'), (c.training.epochs = 5))), 14);
    expect(counts.perStep.length).toBe(14);
    expect(new Set(counts.perStep).size).toBe(1);
    expect(counts.after).toBe(counts.before);
  });

  it('stops early when the metric stops improving and keeps the best epoch', async () => {
    const { result, events } = await trainTiny(
      workspace,
      tinyConfig(workspace.dataset, (c) => {
        c.training.epochs = 6;
        c.training.earlyStoppingMetric = 'val/loss';
        c.training.earlyStoppingPatience = 1;
        c.optimizer.learningRate = 0.5; // large enough that the validation loss soon gets worse
        c.optimizer.clipNorm = 0;
      }),
    );
    const epochs = events.filter((event) => event.kind === 'epoch');
    expect(result.outcome).toBe('early-stopped');
    expect(epochs.length).toBeLessThan(6);
    expect(result.bestEpoch).not.toBeNull();
    expect(existsSync(result.bestCheckpoint!)).toBe(true);
    const best = await readCheckpoint(result.bestCheckpoint!);
    expect(best.json.state.epochsCompleted).toBe(result.bestEpoch);
  });
});

describe('time budget', () => {
  /** A cosine run of 10 epochs in a 1-minute budget, on a clock that moves 25 s an epoch, by its steps only. */
  const budgeted = () =>
    tinyConfig(workspace.dataset, (c) => {
      c.training.epochs = 10;
      c.training.maxMinutes = 1;
      c.schedule = { ...c.schedule, kind: 'cosine', warmupEpochs: 0, minLearningRate: 1e-5 };
    });
  const steppedClock = () => {
    const clock = { ms: 0, msPerStep: 0 };
    const onEvent = (event: TrainingEvent) => {
      if (event.kind === 'started') clock.msPerStep = 25_000 / event.stepsPerEpoch;
      if (event.kind === 'step') clock.ms += clock.msPerStep * event.recent.length;
    };
    return { clock: () => clock.ms, onEvent };
  };

  it('stops before an epoch that would overrun it, and the schedule still spans all the epochs', async () => {
    const config = budgeted();
    const { result, events } = await trainTiny(workspace, config, steppedClock());
    // 25 s after epoch 1 leaves room for another; 50 s after epoch 2 does not (75 > 60).
    expect(result.outcome).toBe('completed');
    expect(result.epochsCompleted).toBe(2);
    const last = await readCheckpoint(result.lastCheckpoint!);
    expect(last.json.state.trainingSeconds).toBeCloseTo(50, 6);
    const base = config.optimizer.learningRate;
    expect(last.json.state.history[1]!.learningRate).toBeCloseTo(learningRateAt(config.schedule, base, 2, 10), 12);
    const rates = (events.filter((event) => event.kind === 'step') as TrainingStep[]).flatMap((event) => event.recent.map(([, , rate]) => rate));
    expect(rates[rates.length / 2]).toBeCloseTo(learningRateAt(config.schedule, base, 1, 10), 12);
  });

  it('continues across a resume: the time spent before the stop still counts', async () => {
    const config = budgeted();
    const first = await trainTiny(workspace, config, { ...steppedClock(), maxSteps: 2 });
    expect(first.result.outcome).toBe('stopped');
    const stopped = await readCheckpoint(first.result.lastCheckpoint!);
    const spentBefore = stopped.json.state.trainingSeconds!;
    expect(spentBefore).toBeGreaterThan(0);
    const resumed = await trainTiny(workspace, config, { ...steppedClock(), resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir });
    // Had the budget restarted at the resume, the run would have gone on to a third epoch.
    expect(resumed.result.epochsCompleted).toBe(2);
    const last = await readCheckpoint(resumed.result.lastCheckpoint!);
    expect(last.json.state.trainingSeconds).toBeCloseTo(50, 6);
  });
});

describe('resume after a kill', () => {
  it('removes leftover temporary and replaced folders and puts the best epoch back into best/', async () => {
    const { cpSync, mkdirSync, rmSync } = await import('node:fs');
    const { readCheckpointHeader } = await import('../../src/main/lib/checkpoints/folders');
    const config = tinyConfig(workspace.dataset, (c) => (c.training.epochs = 3));
    // 4 steps an epoch: 8 steps end two epochs, and the 9th call stops at the start of the third.
    const first = await trainTiny(workspace, config, { maxSteps: 8 });
    const dir = join(first.runDir, 'checkpoints');
    const stopState = await readCheckpointHeader(first.result.lastCheckpoint!);
    const bestEpoch = stopState!.bestEpoch!;
    const otherEpoch = bestEpoch === 1 ? 2 : 1;
    // What kills leave: best/ behind the state, an unfinished write, a replaced folder never removed.
    rmSync(join(dir, 'best'), { recursive: true });
    cpSync(join(dir, `epoch-000${otherEpoch}`), join(dir, 'best'), { recursive: true });
    mkdirSync(join(dir, 'epoch-0003.tmp-99-abcd'));
    cpSync(join(dir, 'epoch-0001'), join(dir, 'epoch-0001.old-99-abcd'), { recursive: true });
    const warnings: string[] = [];
    const resumed = await trainTiny(workspace, config, { maxSteps: 0, resumeFrom: first.result.lastCheckpoint!, runDir: first.runDir, log: (_, message) => warnings.push(message) });
    expect(resumed.result.outcome).toBe('stopped');
    expect(readdirSync(dir).filter((name) => /\.(tmp|old)-/.test(name))).toEqual([]);
    expect((await readCheckpointHeader(join(dir, 'best')))!.epochsCompleted).toBe(bestEpoch);
    expect(resumed.result.bestCheckpoint).toBe(join(dir, 'best'));
    expect(warnings.some((message) => message.includes(`copied epoch-000${bestEpoch}`))).toBe(true);
  });
});

describe('the end-of-epoch hook', () => {
  it('prunes at once: the run ends after that epoch as pruned, keeps its checkpoints, and a resume has nothing left to do', async () => {
    const config = tinyConfig(workspace.dataset, (c) => (c.training.epochs = 3));
    const seen: number[] = [];
    const pruned = await trainTiny(workspace, config, {
      onEpochEnd: (end) => {
        seen.push(end.epoch);
        expect(end.epochs).toBe(3);
        expect(Number.isFinite(end.record.valLoss)).toBe(true);
        return end.epoch === 1 ? 'stop' : 'continue';
      },
    });
    expect(seen).toEqual([1]);
    expect(pruned.result.outcome).toBe('pruned');
    expect(pruned.result.epochsCompleted).toBe(1);
    expect(readdirSync(join(pruned.runDir, 'checkpoints')).sort()).toEqual(['best', 'epoch-0001']);
    const again = await trainTiny(workspace, config, { resumeFrom: pruned.result.lastCheckpoint!, runDir: pruned.runDir });
    expect(again.result.outcome).toBe('completed');
    expect(again.result.globalStep).toBe(pruned.result.globalStep);
  });
});
