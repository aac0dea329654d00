/**
 * What the training loop tells the outside: the `started`, `step` and
 * `epoch` events (step events at most every `stepEventIntervalMs`, each
 * carrying every step since the previous one so the stored curve is whole)
 * and progress with an ETA from a smoothed step time and the last
 * validation's duration.
 */
import type { TrainingEpoch, TrainingEvent, TrainingStarted, TrainingStep } from '../../../shared/trainingTypes';
import type { TrainOptions } from './trainer';

export interface StepReport {
  /** 0-based epoch and step within it. */
  epoch: number;
  step: number;
  globalStep: number;
  loss: number;
  gradNorm: number;
  learningRate: number;
  samplingProbability: number;
  seconds: number;
  tokens: number;
  /** Seconds left of the time budget (`training.maxMinutes`), which caps the ETA; null without one. */
  budgetLeftSeconds: number | null;
}

export interface ReporterOptions {
  emit(event: TrainingEvent): void;
  progress: NonNullable<TrainOptions['onProgress']>;
  epochs: number;
  stepsPerEpoch: number;
  stepEventIntervalMs: number;
  /** No validation runs (the time estimate). */
  stepsOnly: boolean;
}

export class TrainingReporter {
  private secondsPerStep: number | null = null;
  private validationSeconds = 0;
  private lastStepEvent = 0;
  private recent: Array<[number, number, number]> = [];

  constructor(private readonly options: ReporterOptions) {}

  started(event: TrainingStarted): void {
    this.options.emit(event);
  }

  step(report: StepReport): void {
    const { epochs, stepsPerEpoch } = this.options;
    this.secondsPerStep = this.secondsPerStep === null ? report.seconds : 0.9 * this.secondsPerStep + 0.1 * report.seconds;
    this.recent.push([report.globalStep, report.loss, report.learningRate]);
    const now = performance.now();
    const lastOfEpoch = report.step + 1 === stepsPerEpoch;
    if (now - this.lastStepEvent < this.options.stepEventIntervalMs && !lastOfEpoch) return;
    this.lastStepEvent = now;
    const remainingSteps = (epochs - report.epoch - 1) * stepsPerEpoch + (stepsPerEpoch - report.step - 1);
    const remainingValidations = this.options.stepsOnly ? 0 : epochs - report.epoch;
    const untilDone = remainingSteps * this.secondsPerStep + remainingValidations * this.validationSeconds;
    const etaSeconds = report.budgetLeftSeconds === null ? untilDone : Math.min(untilDone, report.budgetLeftSeconds);
    const event: TrainingStep = {
      kind: 'step',
      epoch: report.epoch + 1,
      step: report.step + 1,
      stepsPerEpoch,
      globalStep: report.globalStep,
      loss: report.loss,
      learningRate: report.learningRate,
      gradNorm: report.gradNorm,
      seconds: report.seconds,
      tokensPerSecond: report.tokens / Math.max(report.seconds, 1e-9),
      samplingProbability: report.samplingProbability,
      etaSeconds,
      recent: this.recent,
    };
    this.recent = [];
    this.options.emit(event);
    this.options.progress({
      stage: `epoch ${report.epoch + 1}/${epochs}`,
      done: report.step + 1,
      total: stepsPerEpoch,
      etaSeconds,
      message: `loss ${report.loss.toFixed(3)}`,
    });
  }

  validating(epoch: number): void {
    this.options.progress({ stage: `validating epoch ${epoch + 1}/${this.options.epochs}`, done: 0, total: null });
  }

  epoch(event: TrainingEpoch): void {
    this.validationSeconds = event.validationSeconds;
    this.options.emit(event);
  }
}
