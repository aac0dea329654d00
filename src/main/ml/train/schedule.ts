/**
 * Learning-rate schedules as pure functions of training progress, plus the
 * small state that reduce-on-plateau carries from epoch to epoch (saved in
 * checkpoints so a resumed run continues the same curve).
 */
import type { RunConfig } from '../../../shared/runConfig';

export type ScheduleConfig = RunConfig['schedule'];

export interface PlateauState {
  /** Multiplier applied to the base rate so far (1, then factor, factor², ...). */
  scale: number;
  best: number | null;
  badEpochs: number;
}

export const initialPlateauState = (): PlateauState => ({ scale: 1, best: null, badEpochs: 0 });

/**
 * The learning rate at `epochProgress` (epochs done, fractional: epoch 2 at
 * half way is 2.5) of a run of `totalEpochs`.
 */
export function learningRateAt(
  schedule: ScheduleConfig,
  baseRate: number,
  epochProgress: number,
  totalEpochs: number,
  plateau: PlateauState = initialPlateauState(),
): number {
  switch (schedule.kind) {
    case 'constant':
      return baseRate;
    case 'step':
      return baseRate * schedule.gamma ** Math.floor(epochProgress / schedule.stepEpochs);
    case 'cosine':
    case 'hold-decay': {
      const warmup = schedule.warmupEpochs;
      if (warmup > 0 && epochProgress < warmup) return (baseRate * epochProgress) / warmup;
      // cosine decays from the end of the warm-up; hold-decay keeps the full rate until its last decayEpochs.
      const decayStart = schedule.kind === 'cosine' ? warmup : Math.max(warmup, totalEpochs - schedule.decayEpochs);
      const span = Math.max(totalEpochs - decayStart, 1e-9);
      const progress = Math.min(1, Math.max(0, (epochProgress - decayStart) / span));
      const floor = Math.min(schedule.minLearningRate, baseRate);
      return floor + (baseRate - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
    case 'plateau':
      return Math.max(Math.min(schedule.minLearningRate, baseRate), baseRate * plateau.scale);
  }
}

/**
 * Reduce-on-plateau bookkeeping after an epoch's validation metric. `goal`
 * says whether larger (BLEU, CIDEr) or smaller (loss) is better.
 */
export function updatePlateau(schedule: ScheduleConfig, state: PlateauState, value: number, goal: 'min' | 'max'): PlateauState {
  if (!Number.isFinite(value)) return { ...state, badEpochs: state.badEpochs + 1 };
  const improved = state.best === null || (goal === 'max' ? value > state.best : value < state.best);
  if (improved) return { scale: state.scale, best: value, badEpochs: 0 };
  const badEpochs = state.badEpochs + 1;
  if (badEpochs >= schedule.plateauPatience) return { scale: state.scale * schedule.plateauFactor, best: state.best, badEpochs: 0 };
  return { ...state, badEpochs };
}

/** Scheduled sampling probability at `epochProgress`: a linear ramp from 0 to the configured value. */
export function samplingProbabilityAt(training: RunConfig['training'], epochProgress: number): number {
  if (training.scheduledSampling <= 0) return 0;
  return training.scheduledSampling * Math.min(1, epochProgress / training.scheduledSamplingRampEpochs);
}

/** What a step trains with. */
export interface StepRates {
  learningRate: number;
  samplingProbability: number;
}

/**
 * A run's schedule as one object: the rates of a step from where training
 * stands, and the plateau bookkeeping after an epoch. Its only state is the
 * plateau state, which the training state carries (and checkpoints keep).
 */
export class TrainingSchedule {
  constructor(
    private readonly config: Pick<RunConfig, 'schedule' | 'optimizer' | 'training'>,
    private readonly epochs: number,
    private readonly stepsPerEpoch: number,
  ) {}

  /** Rates for step `step` (0-based) of epoch `epoch` (0-based). */
  at(epoch: number, step: number, plateau: PlateauState): StepRates {
    const progress = epoch + step / this.stepsPerEpoch;
    return {
      learningRate: learningRateAt(this.config.schedule, this.config.optimizer.learningRate, progress, this.epochs, plateau),
      samplingProbability: samplingProbabilityAt(this.config.training, progress),
    };
  }

  /** The learning rate reported for a finished epoch (its end point). */
  epochEndRate(epochsCompleted: number, plateau: PlateauState): number {
    return learningRateAt(this.config.schedule, this.config.optimizer.learningRate, epochsCompleted, this.epochs, plateau);
  }

  /** Plateau state after an epoch whose early-stopping metric was `value`. */
  afterEpoch(plateau: PlateauState, value: number, goal: 'min' | 'max'): PlateauState {
    return this.config.schedule.kind === 'plateau' ? updatePlateau(this.config.schedule, plateau, value, goal) : plateau;
  }
}
