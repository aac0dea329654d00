/**
 * How the training state moves: a fresh state, after a step, after an
 * epoch. Plain data; with the weights and optimizer state it is everything
 * a checkpoint needs for an exact resume.
 */
import type { EarlyStoppingMetric } from '../../../shared/runConfig';
import type { EpochRecord, TrainingState } from './checkpoint';
import { initialEarlyStopping, type EarlyStoppingState } from './earlyStopping';
import { initialPlateauState, type PlateauState } from './schedule';

export function initialTrainingState(seed: number, batchSize: number, metric: EarlyStoppingMetric): TrainingState {
  return {
    epochsCompleted: 0,
    stepInEpoch: 0,
    globalStep: 0,
    epochLossSum: 0,
    epochLossCount: 0,
    batchSize,
    plateau: initialPlateauState(),
    earlyStopping: initialEarlyStopping(metric),
    history: [],
    random: { seed, epoch: 0, step: 0 },
    finished: false,
  };
}

/** After step `step` (0-based) of epoch `epoch` over `rows` captions with mean loss `loss`. */
export function afterStep(state: TrainingState, epoch: number, step: number, loss: number, rows: number): TrainingState {
  return {
    ...state,
    stepInEpoch: step + 1,
    globalStep: state.globalStep + 1,
    epochLossSum: state.epochLossSum + loss * rows,
    epochLossCount: state.epochLossCount + rows,
    random: { seed: state.random.seed, epoch, step: step + 1 },
  };
}

/** The epoch's mean training loss so far. */
export const epochTrainLoss = (state: TrainingState): number => (state.epochLossCount > 0 ? state.epochLossSum / state.epochLossCount : Number.NaN);

/** After an epoch without validation (the time estimate). */
export function afterUnvalidatedEpoch(state: TrainingState, epoch: number): TrainingState {
  return { ...state, epochsCompleted: epoch + 1, stepInEpoch: 0, epochLossSum: 0, epochLossCount: 0 };
}

/** After a validated epoch; `finished` when the run ends with it. */
export function afterEpoch(
  state: TrainingState,
  record: EpochRecord,
  judged: { plateau: PlateauState; earlyStopping: EarlyStoppingState; finished: boolean },
): TrainingState {
  return {
    ...state,
    epochsCompleted: record.epoch,
    stepInEpoch: 0,
    epochLossSum: 0,
    epochLossCount: 0,
    plateau: judged.plateau,
    earlyStopping: judged.earlyStopping,
    history: [...state.history, record],
    random: { seed: state.random.seed, epoch: record.epoch, step: 0 },
    finished: judged.finished,
  };
}
