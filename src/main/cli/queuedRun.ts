/**
 * Following a training run that workers execute (`captioner train --queue`):
 * this process only reads the shared store, every `pollMs`. It prints the
 * same lines as a local run: `started` once a worker claimed it, one `epoch`
 * line per finished epoch (from the metrics the worker stored), a progress
 * bar from the task's progress, and the `final` line once the task ended.
 */
import type { TaskRecord } from '../../shared/taskTypes';
import type { TrainingFinished } from '../../shared/trainingTypes';
import type { ExperimentStore } from '../store';
import { progressPrinter } from './progress';

export interface EpochLine {
  type: 'epoch';
  runId: number;
  epoch: number;
  epochs: number | null;
  globalStep: number;
  trainLoss: number | null;
  valLoss: number | null;
  bleu4: number | null;
  ciderD: number | null;
  learningRate: number | null;
  seconds: number | null;
  improved: boolean;
  bestEpoch: number | null;
}

export interface QueuedRunCallbacks {
  started(line: { type: 'started'; runId: number; taskId: number; host: string; worker: string; backend: string | null }): void;
  epoch(line: EpochLine): void;
}

/** The epoch keys a training task stores (see RunRecorder in trainingService.ts). */
const EPOCH_KEYS = {
  trainLoss: 'epoch/trainLoss',
  valLoss: 'val/loss',
  bleu4: 'val/bleu4',
  ciderD: 'val/ciderD',
  learningRate: 'epoch/learningRate',
  seconds: 'epoch/seconds',
} as const;

export class QueuedRunFollower {
  private lastEpoch = -1;
  private announcedAttempt = 0;
  private readonly bar: ReturnType<typeof progressPrinter>;

  constructor(
    private readonly store: ExperimentStore,
    private readonly runId: number,
    private readonly taskId: number,
    private readonly callbacks: QueuedRunCallbacks,
    showProgress: boolean,
  ) {
    this.bar = progressPrinter(showProgress);
  }

  /** Reads the store once; the task as it is now. */
  async poll(): Promise<TaskRecord | null> {
    const task = await this.store.tasks.get(this.taskId);
    if (!task) return null;
    // Announced once per claim, also when the run ended between two polls.
    if (task.state !== 'queued' && task.owner && task.attempts > this.announcedAttempt) {
      this.announcedAttempt = task.attempts;
      const run = await this.store.runs.get(this.runId);
      this.bar.done();
      this.callbacks.started({ type: 'started', runId: this.runId, taskId: task.id, host: task.owner.host, worker: task.owner.worker, backend: run?.backend ?? null });
    }
    await this.epochs();
    if (task.progress && (task.state === 'running' || task.state === 'stopping')) this.bar.update(task.progress);
    return task;
  }

  done(): void {
    this.bar.done();
  }

  /** Epoch lines for the epochs stored since the last poll. */
  private async epochs(): Promise<void> {
    const series = await this.store.metrics.series(this.runId, EPOCH_KEYS.trainLoss, { maxPoints: 1_000_000 });
    const fresh = series.points.filter((point) => point.epoch > this.lastEpoch);
    if (fresh.length === 0) return;
    const valuesAt = async (key: string) => {
      const points = (await this.store.metrics.series(this.runId, key, { maxPoints: 1_000_000 })).points;
      return new Map(points.map((point) => [point.step, point.value]));
    };
    const values = Object.fromEntries(
      await Promise.all(Object.entries(EPOCH_KEYS).map(async ([name, key]) => [name, await valuesAt(key)] as const)),
    ) as Record<keyof typeof EPOCH_KEYS, Map<number, number>>;
    const run = await this.store.runs.get(this.runId);
    const epochs = (run?.config as { training?: { epochs?: number } } | undefined)?.training?.epochs ?? null;
    const best = (await this.store.checkpoints.list(this.runId)).find((checkpoint) => checkpoint.isBest) ?? null;
    this.bar.done();
    for (const point of fresh) {
      const at = (name: keyof typeof EPOCH_KEYS) => values[name].get(point.step) ?? null;
      this.callbacks.epoch({
        type: 'epoch',
        runId: this.runId,
        epoch: point.epoch,
        epochs,
        globalStep: point.step,
        trainLoss: at('trainLoss'),
        valLoss: at('valLoss'),
        bleu4: at('bleu4'),
        ciderD: at('ciderD'),
        learningRate: at('learningRate'),
        seconds: at('seconds'),
        improved: best !== null && best.epoch === point.epoch,
        bestEpoch: best?.epoch ?? null,
      });
      this.lastEpoch = point.epoch;
    }
  }
}

/** A line for people: epoch N/M and its numbers, where known. */
export function formatEpochLine(line: EpochLine): string {
  const number = (value: number | null, digits = 4) => (value === null ? '–' : value.toFixed(digits));
  return (
    `epoch ${line.epoch}/${line.epochs ?? '?'}  train loss ${number(line.trainLoss)}  val loss ${number(line.valLoss)}  ` +
    `BLEU-4 ${number(line.bleu4)}  CIDEr-D ${number(line.ciderD)}${line.improved ? '  (best so far)' : ''}\n`
  );
}

export type { TrainingFinished };
