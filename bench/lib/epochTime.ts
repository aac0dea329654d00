/**
 * Seconds per epoch of a preset's real training steps (scratch CNN, graphs
 * on the native backend) on a small Shapes set, for several variants of its
 * config. Each variant runs warm-up steps then timed steps; the variants run
 * in turn, for several rounds, so a shared machine's load falls on all of
 * them alike. The warm-up must cover the first sights of the step shapes,
 * which run eagerly and are traced into graphs (ml/graph/graphSteps.ts): a
 * short one would charge their tracing to the timed steps, a cost a real
 * run pays once over thousands of steps. The variants need not have the
 * same steps per epoch, so the comparison is seconds per epoch: mean step
 * seconds × steps per epoch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendInfo } from '../../src/shared/types';
import { synthesizeShapes } from '../../src/main/lib/data/shapes/synth';
import { train } from '../../src/main/ml/train/trainer';
import { configFromPreset, mergeConfig, type RunConfigOverrides } from '../../src/shared/runConfig';

export interface EpochTimeOptions {
  preset: 'shapes-grounded' | 'shapes-quick';
  /** Changes to the preset that every variant shares (`--set`, `--image-size`). */
  overrides: RunConfigOverrides;
  images: number;
  steps: number;
  warmup: number;
  rounds: number;
  backend: BackendInfo;
}

export interface EpochTime {
  name: string;
  imageSize: number;
  timedSteps: number;
  stepsPerEpoch: number;
  meanStepSeconds: number;
  epochSeconds: number;
  /** Seconds per epoch over the first variant's. */
  epochTimeRatio: number;
  /** The share of the steps that ran as TensorFlow graphs. */
  graphShare: number;
  backend: string;
  cores: number;
  cpu: string;
}

export async function epochTimes(options: EpochTimeOptions, variants: ReadonlyArray<{ name: string; overrides: RunConfigOverrides }>): Promise<EpochTime[]> {
  const root = mkdtempSync(join(tmpdir(), 'captioner-bench-epoch-'));
  try {
    const dataset = join(root, 'shapes');
    const configOf = (variant: RunConfigOverrides) =>
      configFromPreset(
        options.preset,
        mergeConfig(options.overrides, variant, {
          dataset: { path: dataset },
          training: { epochs: 1000, maxMinutes: 0 },
          validation: { subsetSize: 1, sampleImages: 0 },
        }),
      );
    const imageSize = configOf({}).encoder.imageSize;
    await synthesizeShapes({ out: dataset, images: options.images, imageSize, seed: 1 });
    const samples = variants.map(() => ({ stepSeconds: [] as number[], stepsPerEpoch: 0, replays: 0, steps: 0 }));
    for (let round = 0; round < options.rounds; round++) {
      for (const [index, variant] of variants.entries()) {
        const sample = samples[index]!;
        let seen = 0;
        await train({
          config: configOf(variant.overrides),
          runDir: join(root, `run-${round}-${index}`),
          dataDir: root,
          backend: options.backend,
          maxSteps: options.warmup + options.steps,
          stepsOnly: true,
          stepEventIntervalMs: 0,
          log: (_level, message) => {
            const graphs = /^(\d+) of (\d+) training steps ran as TensorFlow graphs/.exec(message);
            if (!graphs) return;
            sample.replays += Number(graphs[1]);
            sample.steps += Number(graphs[2]);
          },
          onEvent: (event) => {
            if (event.kind !== 'step') return;
            sample.stepsPerEpoch = event.stepsPerEpoch;
            if (++seen > options.warmup) sample.stepSeconds.push(event.seconds);
          },
        });
      }
    }
    const epochSeconds = samples.map((sample) => (sample.stepSeconds.reduce((sum, s) => sum + s, 0) / sample.stepSeconds.length) * sample.stepsPerEpoch);
    return variants.map((variant, index) => {
      const sample = samples[index]!;
      const seconds = epochSeconds[index]!;
      return {
        name: variant.name,
        imageSize,
        timedSteps: sample.stepSeconds.length,
        stepsPerEpoch: sample.stepsPerEpoch,
        meanStepSeconds: Number((seconds / sample.stepsPerEpoch).toFixed(4)),
        epochSeconds: Number(seconds.toFixed(2)),
        epochTimeRatio: Number((seconds / epochSeconds[0]!).toFixed(3)),
        graphShare: sample.steps > 0 ? Number((sample.replays / sample.steps).toFixed(3)) : 0,
        backend: options.backend.name,
        cores: availableParallelism(),
        cpu: cpus()[0]?.model ?? 'unknown',
      };
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
