/**
 * The training loop. Custom rather than tfjs-layers' `fit`: teacher forcing
 * with optional scheduled sampling, Adam/AdamW with global-norm clipping and
 * learning-rate schedules, validation with real caption metrics every epoch,
 * atomic checkpoints, early stopping, and exact resume.
 *
 * `train` sets up (data, model, optimizer, resumed state) and hands a short
 * loop its named parts: the schedule (rates per step, plateau), early
 * stopping, validation, the checkpointer (what is written when, and the
 * recovery a resume starts with) and the reporter (events and progress).
 * After each epoch `onEpochEnd` may stop the run (a tuner pruning a trial):
 * the run ends at once, keeps its checkpoints, and answers `pruned`.
 *
 * Exactness: every random choice is a function of (seed, epoch, step) and
 * every piece of state (weights, Adam moments and step, epoch and step
 * counters, schedule and early-stopping state, the epoch's running loss)
 * goes into the checkpoint, so stopping after step k and resuming gives the
 * same weights as never stopping (on the same backend).
 *
 * Stopping: the AbortSignal is read between steps; the current step
 * finishes, a checkpoint is written, and the call returns `stopped`.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { RunConfig } from '../../../shared/runConfig';
import { resolveBatchSize } from '../../../shared/runConfig';
import type { TrainingEvent, TrainingOutcome, TrainingResult, TrainingStarted } from '../../../shared/trainingTypes';
import type { BackendInfo } from '../../../shared/types';
import type { CheckpointIoHook } from '../../lib/checkpoints/folders';
import { Vocabulary } from '../../lib/data/text/vocabulary';
import { assignWeights } from '../model/params';
import { deriveSeed } from '../model/rng';
import { epochBatches, hostBatch, toTensors, type HostBatch } from './batches';
import { batchesByLength, meanBatchWords, paddedLength, paddedLengths, wordWeight } from './lengthBuckets';
import { readCheckpoint, type EpochRecord, type LoadedCheckpoint, type TrainingState } from './checkpoint';
import { Checkpointer, recoverCheckpoints } from './checkpointer';
import { loadTrainingData } from './data';
import { EarlyStopping, metricValue } from './earlyStopping';
import { estimateStepBytes, memoryBudget, trainingWarnings } from './hardware';
import { setUpModel, type TrainingModel } from './modelSetup';
import { rowFeatures } from './featureSource';
import { Flip } from './augmentation';
import { WordDropout } from './wordDropout';
import { ConverseRelations } from './converseRelations';
import { AdamOptimizer, clipByGlobalNorm } from './optimizer';
import { WeightAverage } from './weightAverage';
import { TrainingReporter } from './reporter';
import { TrainingSchedule, type StepRates } from './schedule';
import { TimeBudget } from './timeBudget';
import { afterEpoch, afterStep, afterUnvalidatedEpoch, epochTrainLoss, initialTrainingState } from './trainingState';
import { RunValidation, yieldToEvents, type ValidationResult } from './validation';
import { ensureTrainingKernels } from '../backend/wasmKernels';
import { GraphSteps } from '../graph/graphSteps';

/** What `onEpochEnd` sees: the epoch just validated. */
export interface EpochEnd {
  /** 1-based. */
  epoch: number;
  epochs: number;
  record: EpochRecord;
  improved: boolean;
  bestEpoch: number | null;
  /** Early stopping will end the run after this epoch anyway. */
  stoppingEarly: boolean;
}

/** `stop` ends the run after this epoch's checkpoint with outcome `pruned`. */
export type EpochDecision = 'continue' | 'stop';

export interface TrainOptions {
  config: RunConfig;
  /** The run's folder; checkpoints go to `<runDir>/checkpoints/`. */
  runDir: string;
  dataDir: string;
  backend: BackendInfo;
  /** Continue from this checkpoint (its config and vocabulary win over `config`). */
  resumeFrom?: string | null;
  signal?: AbortSignal;
  /** Stop (with a checkpoint) after this many optimizer steps in this call: tests and estimates. */
  maxSteps?: number;
  /** Skip validation and epoch checkpoints (the time estimate measures steps only). */
  stepsOnly?: boolean;
  /**
   * Every step trains on the epoch's first batch: the time estimate, whose
   * few steps must share a shape to reach the graph steps that training
   * runs on (ml/graph/graphSteps.ts).
   */
  sameBatch?: boolean;
  /** Least time between step events (default 500 ms; the last step of an epoch always reports). */
  stepEventIntervalMs?: number;
  /** The end-of-epoch hook: a tuning pruner stops a trial here. */
  onEpochEnd?(end: EpochEnd): EpochDecision | Promise<EpochDecision>;
  /** Tests: called before every file-system step of a checkpoint write. */
  checkpointIoHook?: CheckpointIoHook;
  /** The clock `training.maxMinutes` is measured on, in milliseconds (default `performance.now`; tests drive their own). */
  clock?: () => number;
  onEvent?(event: TrainingEvent): void;
  onProgress?(progress: { stage: string; done: number; total: number | null; etaSeconds?: number | null; message?: string }): void;
  log?(level: 'info' | 'warn', message: string): void;
}

const checkpointDir = (options: TrainOptions): string => join(options.runDir, 'checkpoints');

/** How often step events are emitted (the last step of an epoch always is). */
const STEP_EVENT_INTERVAL_MS = 500;

export async function train(options: TrainOptions): Promise<TrainingResult> {
  const log = options.log ?? (() => undefined);
  const progress = options.onProgress ?? (() => undefined);
  ensureTrainingKernels();
  // Recovery first: a kill may have left the folder to resume from aside, or best/ behind the state.
  const recovered = options.resumeFrom ? await recoverCheckpoints(checkpointDir(options), log, options.checkpointIoHook) : { best: null };
  const resumed: LoadedCheckpoint | null = options.resumeFrom ? await readCheckpoint(options.resumeFrom) : null;
  const config = resumed ? resumed.json.config : options.config;

  progress({ stage: 'reading dataset', done: 0, total: null });
  const vocabulary = resumed ? Vocabulary.fromJson(resumed.json.vocabulary, `${resumed.path}/checkpoint.json vocabulary`) : undefined;
  const rawData = await loadTrainingData(config, vocabulary);
  const model = await setUpModel(config, rawData, {
    ...(options.signal ? { signal: options.signal } : {}),
    dataDir: options.dataDir,
    log,
    progress: (stage, done, total) => progress({ stage, done, total }),
  });
  const optimizer = new AdamOptimizer(model.namedParams(), {
    beta1: config.optimizer.beta1,
    beta2: config.optimizer.beta2,
    epsilon: config.optimizer.epsilon,
    weightDecay: config.optimizer.name === 'adamw' ? config.optimizer.weightDecay : 0,
  });
  const graphs = new GraphSteps(log);
  const average = config.training.weightAverage > 0 ? new WeightAverage(model.namedParams(), config.training.weightAverage) : null;
  try {
    return await runLoop(prepareRun(options, config, model, { optimizer, average }, resumed, recovered.best, graphs));
  } finally {
    average?.dispose();
    const { replays, eager } = graphs.stats;
    if (replays > 0) log('info', `${replays} of ${replays + eager} training steps ran as TensorFlow graphs.`);
    graphs.dispose();
    optimizer.dispose();
    model.dispose();
  }
}

/** The loop: steps of an epoch, then validation and the end-of-epoch decisions, until done. */
async function runLoop(run: PreparedRun): Promise<TrainingResult> {
  const { options, schedule, reporter, perEpoch, epochs, trainCaptions } = run;
  reporter.started(run.started);
  if (run.state.finished) return run.finish('completed');
  const now = options.clock ?? (() => performance.now());
  const budget = new TimeBudget(run.config.training.maxMinutes, run.state.trainingSeconds ?? 0, now());
  // Every checkpoint carries the loop's time so far, so a resumed run continues its budget.
  const recordTime = (): void => {
    run.state = { ...run.state, trainingSeconds: budget.spentSeconds(now()) };
  };
  const stop = (): Promise<TrainingResult> => {
    recordTime();
    return run.stop();
  };
  while (run.state.epochsCompleted < epochs) {
    const epoch = run.state.epochsCompleted; // 0-based index of the epoch in progress
    const batches = run.batchesOf(epoch);
    const epochStarted = now();
    for (let step = run.state.stepInEpoch; step < perEpoch; step++) {
      if (run.interrupted()) return stop();
      const rates = schedule.at(epoch, step, run.state.plateau);
      const items = batches[options.sameBatch ? 0 : step]!.map((index) => trainCaptions[index]!);
      const batch = hostBatch(items, { shareImages: run.captionsPerImage > 1, padTo: run.padTo });
      const { loss, gradNorm, seconds } = await run.step(epoch, batch, { ...rates, learningRate: rates.learningRate * run.stepWeight(batch.tokens) });
      run.state = afterStep(run.state, epoch, step, loss, batch.rows);
      const budgetLeftSeconds = budget.leftSeconds(now());
      reporter.step({ epoch, step, globalStep: run.state.globalStep, loss, gradNorm, ...rates, seconds, tokens: batch.tokens, budgetLeftSeconds });
      await yieldToEvents();
    }
    if (options.stepsOnly) {
      run.state = afterUnvalidatedEpoch(run.state, epoch);
      continue;
    }
    reporter.validating(epoch);
    const result = await run.validate();
    // Stopped while validating: the steps are done (stepInEpoch = perEpoch), so a resume validates this epoch.
    if (!result) return stop();
    recordTime();
    const outcome = await endOfEpoch(run, epoch, result, (now() - epochStarted) / 1000);
    if (outcome) return run.finish(outcome);
    if (budget.noRoomForAnotherEpoch(epochStarted, now())) {
      run.log('info', `Time budget of ${run.config.training.maxMinutes} minutes: stopping after epoch ${epoch + 1}, another epoch would not end in time.`);
      return run.finish('completed');
    }
  }
  return run.finish('completed');
}

/**
 * After an epoch's validation: early stopping and the plateau schedule judge
 * it, the hook may prune, the epoch event goes out, and the checkpointer
 * writes `epoch-N/` (and `best/`). Returns the outcome when the run ends here.
 */
async function endOfEpoch(run: PreparedRun, epoch: number, validation: ValidationResult, seconds: number): Promise<TrainingOutcome | null> {
  const { config, stopping, schedule, checkpointer, reporter, options, epochs } = run;
  const value = metricValue(stopping.metric, validation);
  const judged = stopping.judge(run.state.earlyStopping, epoch + 1, value);
  const plateau = schedule.afterEpoch(run.state.plateau, value, stopping.goal);
  const record: EpochRecord = {
    epoch: epoch + 1,
    globalStep: run.state.globalStep,
    trainLoss: epochTrainLoss(run.state),
    valLoss: validation.valLoss,
    bleu4: validation.bleu4,
    ciderD: validation.ciderD,
    learningRate: schedule.epochEndRate(epoch + 1, run.state.plateau),
    seconds,
  };
  const end: EpochEnd = { epoch: epoch + 1, epochs, record, improved: judged.improved, bestEpoch: judged.state.bestEpoch, stoppingEarly: judged.stop };
  const pruned = options.onEpochEnd ? (await options.onEpochEnd(end)) === 'stop' : false;
  const outcome: TrainingOutcome | null = pruned ? 'pruned' : judged.stop ? 'early-stopped' : null;
  run.state = afterEpoch(run.state, record, { plateau, earlyStopping: judged.state, finished: outcome !== null || epoch + 1 >= epochs });
  run.lastValidation = { valLoss: validation.valLoss, bleu4: validation.bleu4, ciderD: validation.ciderD };
  reporter.epoch({ kind: 'epoch', ...record, epochs, validationSeconds: validation.seconds, improved: judged.improved, bestEpoch: judged.state.bestEpoch, samples: validation.samples });
  const metrics = { 'val/loss': validation.valLoss, 'val/bleu4': validation.bleu4, 'val/ciderD': validation.ciderD, 'train/loss': record.trainLoss };
  await checkpointer.saveEpoch(run.state, metrics, judged.improved);
  if (outcome === 'early-stopped') run.log('info', `Early stopping after epoch ${epoch + 1}: ${config.training.earlyStoppingMetric} has not improved for ${config.training.earlyStoppingPatience} epochs.`);
  if (outcome === 'pruned') run.log('info', `Pruned after epoch ${epoch + 1}: the end-of-epoch hook stopped the run.`);
  return outcome;
}

/** Everything the loop works with, set up once. */
interface PreparedRun {
  options: TrainOptions;
  config: RunConfig;
  seed: number;
  epochs: number;
  batchSize: number;
  perEpoch: number;
  trainCaptions: TrainingModel['data']['train']['captions'];
  /** How many rows share one image (`training.captionsPerImage`), and the batches of an epoch (caption indices). */
  captionsPerImage: number;
  batchesOf(epoch: number): number[][];
  /** The steps a batch whose longest caption has `longest` is padded to (batches by length use a few lengths). */
  padTo(longest: number): number;
  /** What the scheduled learning rate is multiplied by for a batch of this many target words (see lengthBuckets.ts). */
  stepWeight(tokens: number): number;
  started: TrainingStarted;
  state: TrainingState;
  lastValidation: TrainingResult['validation'];
  schedule: TrainingSchedule;
  stopping: EarlyStopping;
  validation: RunValidation;
  /** Validates the weights captions will use (the average, when the run keeps one); null when stopped. */
  validate(): Promise<ValidationResult | null>;
  checkpointer: Checkpointer;
  reporter: TrainingReporter;
  log(level: 'info' | 'warn', message: string): void;
  /** A stop was asked for, or this call's step budget is spent. */
  interrupted(): boolean;
  step(epoch: number, batch: HostBatch, rates: StepRates): Promise<{ loss: number; gradNorm: number; seconds: number }>;
  /** Saves a stop checkpoint and answers `stopped`. */
  stop(): Promise<TrainingResult>;
  finish(outcome: TrainingOutcome): TrainingResult;
}

function prepareRun(
  options: TrainOptions,
  config: RunConfig,
  model: TrainingModel,
  { optimizer, average }: { optimizer: AdamOptimizer; average: WeightAverage | null },
  resumed: LoadedCheckpoint | null,
  recoveredBest: string | null,
  graphs: GraphSteps,
): PreparedRun {
  const log = options.log ?? (() => undefined);
  const { data, decoder, source } = model;
  const seed = config.training.seed;
  const named = model.namedParams();
  const parameters = named.reduce((sum, [, variable]) => sum + variable.size, 0);
  const fits = (batchSize: number) =>
    estimateStepBytes({
      decoder: decoder.options,
      batchSize,
      steps: config.vocab.maxCaptionLength + 1,
      gridRegions: source.gridRegions,
      cnn: model.encoder ? { inputSize: model.encoder.options.inputSize, channels: model.encoder.options.channels, stemStride: model.encoder.options.stemStride ?? 1 } : null,
      parameters,
    }) <= memoryBudget(options.backend);
  const batchSize = resumed ? resumed.json.state.batchSize : resolveBatchSize(config.training.batchSize, fits);
  const warnings = trainingWarnings(options.backend);
  if (!fits(batchSize)) warnings.push(`A step with batch size ${batchSize} may not fit in memory on this machine; lower training.batchSize if training fails.`);
  if (data.skippedImages.length > 0) warnings.push(skippedImagesWarning(data.skippedImages));
  if (resumed) restoreWeights(resumed, named, optimizer, average);

  const trainCaptions = data.train.captions;
  let state = resumed ? resumed.json.state : initialTrainingState(seed, batchSize, config.training.earlyStoppingMetric);
  if (state.trainCaptions !== undefined && state.trainCaptions !== trainCaptions.length) {
    warnings.push(
      `The dataset now has ${trainCaptions.length} training captions, the checkpoint was trained on ${state.trainCaptions}: training continues, but not exactly as it would have.`,
    );
  }
  for (const warning of warnings) log('warn', warning);
  state = { ...state, trainCaptions: trainCaptions.length };
  const imageOfCaption = trainCaptions.map((caption) => caption.image);
  const captionsPerImage = config.training.captionsPerImage;
  const stepsOfCaption = trainCaptions.map((caption) => caption.tokens.length - 1);
  const padded = config.training.batchByLength ? paddedLengths(stepsOfCaption) : null;
  if (padded) log('info', `Batches by caption length, padded to ${padded.join(', ')} steps.`);
  const batchesOf = (epoch: number) =>
    padded ? batchesByLength(seed, epoch, stepsOfCaption, batchSize, padded) : epochBatches(seed, epoch, imageOfCaption, batchSize, captionsPerImage);
  // The number of batches depends on the caption counts only, not on the draw: any epoch's count is every epoch's.
  const perEpoch = batchesOf(0).length;
  const meanWords = meanBatchWords(stepsOfCaption, perEpoch);
  const epochs = config.training.epochs;
  const validation = new RunValidation(decoder, source, data.val, data.vocabulary, {
    subsetSize: config.validation.subsetSize,
    sampleImages: config.validation.sampleImages,
    batchSize: Math.max(batchSize, 32),
    maxLength: config.vocab.maxCaptionLength,
    seed,
  });
  const varToName = new Map(named.map(([name, variable]) => [variable.name, name]));
  const decoderVariables = named.filter(([name]) => !name.startsWith('encoder/')).map(([, variable]) => variable);
  const allVariables = named.map(([, variable]) => variable);
  // A scratch CNN learns at the decoder's rate; a fine-tuned backbone at its own, following the same schedule.
  const encoderRateScale = model.encoder ? 1 : config.encoder.fineTune.learningRate / config.optimizer.learningRate;
  let stepsThisCall = 0;
  const flips = (['horizontalFlip', 'verticalFlip'] as const).flatMap((key) => {
    if (!config.training[key]) return [];
    if (source.flippable) return [new Flip(data.vocabulary, seed, key === 'horizontalFlip' ? 'horizontal' : 'vertical')];
    log('warn', `training.${key} needs pixels: it is ignored with a frozen encoder, whose features are cached.`);
    return [];
  });
  const wordDropout = config.training.wordDropout > 0 ? new WordDropout(config.training.wordDropout, seed) : null;
  const converse = config.training.converseRelations ? new ConverseRelations(data.vocabulary, seed) : null;
  // Flip first: it swaps side words, which word dropout may then hide. The converse and the flip commute.
  const augment = (batch: HostBatch, globalStep: number): HostBatch => {
    const told = converse ? converse.apply(batch, globalStep) : batch;
    const flipped = flips.reduce((flipping, flip) => flip.apply(flipping, globalStep), told);
    return wordDropout ? wordDropout.apply(flipped, globalStep) : flipped;
  };

  const contents = async (at: TrainingState, metrics: Record<string, number>) => {
    const [trained, averaged, optimizerState] = await Promise.all([serializeNamed(named), average?.serialize() ?? null, optimizer.serialize()]);
    const json = { backend: options.backend.name, config, decoder: decoder.options, encoder: model.encoderRecord, vocabulary: data.vocabulary.toJson(), state: at, metrics };
    return averaged ? { json, weights: averaged, trained, optimizer: optimizerState } : { json, weights: trained, optimizer: optimizerState };
  };
  const checkpointer = new Checkpointer(
    {
      dir: checkpointDir(options),
      contents,
      emit: options.onEvent ?? (() => undefined),
      log,
      ...(options.checkpointIoHook ? { ioHook: options.checkpointIoHook } : {}),
    },
    { last: resumed?.path ?? null, best: recoveredBest },
  );
  const last = state.history[state.history.length - 1];

  const run: PreparedRun = {
    options,
    config,
    seed,
    epochs,
    batchSize,
    perEpoch,
    trainCaptions,
    captionsPerImage,
    batchesOf,
    padTo: (longest) => (padded ? paddedLength(padded, longest) : longest),
    stepWeight: (tokens) => (padded ? wordWeight(tokens, meanWords) : 1),
    started: {
      kind: 'started',
      backend: options.backend.name,
      device: options.backend.device,
      batchSize,
      stepsPerEpoch: perEpoch,
      epochs,
      trainImages: data.train.images.length,
      trainCaptions: trainCaptions.length,
      valImages: data.val.images.length,
      validationImages: validation.subset.length,
      vocabularySize: data.vocabulary.size,
      parameters,
      warnings,
      skippedImages: data.skippedImages,
      resumedFrom: resumed?.path ?? null,
      epochsCompleted: state.epochsCompleted,
      globalStep: state.globalStep,
    },
    state,
    lastValidation: last ? { valLoss: last.valLoss, bleu4: last.bleu4, ciderD: last.ciderD } : null,
    schedule: new TrainingSchedule(config, epochs, perEpoch),
    stopping: new EarlyStopping(config.training.earlyStoppingMetric, config.training.earlyStoppingPatience),
    validation,
    validate: () => (average ? average.withAverage(() => validation.run(options.signal)) : validation.run(options.signal)),
    checkpointer,
    reporter: new TrainingReporter({
      emit: options.onEvent ?? (() => undefined),
      progress: options.onProgress ?? (() => undefined),
      epochs,
      stepsPerEpoch: perEpoch,
      stepEventIntervalMs: options.stepEventIntervalMs ?? STEP_EVENT_INTERVAL_MS,
      stepsOnly: options.stepsOnly === true,
    }),
    log,
    interrupted: () => options.signal?.aborted === true || (options.maxSteps !== undefined && stepsThisCall >= options.maxSteps),
    async step(epoch, batch, rates) {
      const started = performance.now();
      const variables = source.trainsAt && !source.trainsAt(epoch) ? decoderVariables : allVariables;
      const globalStep = run.state.globalStep;
      const { loss, gradNorm } = await trainStep(model, optimizer, variables, varToName, augment(batch, globalStep), {
        learningRate: (name: string) => (name.startsWith('encoder/') ? rates.learningRate * encoderRateScale : rates.learningRate),
        samplingProbability: rates.samplingProbability,
        labelSmoothing: config.training.labelSmoothing,
        clipNorm: config.optimizer.clipNorm,
        dropoutSeed: deriveSeed(seed, 'dropout', globalStep),
        samplingSeed: deriveSeed(seed, 'sampling', globalStep),
      }, graphs);
      if (!Number.isFinite(loss)) {
        throw new Error(`The training loss became ${loss} at step ${globalStep + 1} (epoch ${epoch + 1}). Lower optimizer.learningRate or set optimizer.clipNorm.`);
      }
      average?.update();
      stepsThisCall += 1;
      return { loss, gradNorm, seconds: (performance.now() - started) / 1000 };
    },
    async stop() {
      await run.checkpointer.saveStop(run.state);
      return run.finish('stopped');
    },
    finish: (outcome) => ({
      outcome,
      epochsCompleted: run.state.epochsCompleted,
      globalStep: run.state.globalStep,
      lastCheckpoint: run.checkpointer.last,
      bestCheckpoint: run.checkpointer.best,
      bestEpoch: run.state.earlyStopping.bestEpoch,
      validation: run.lastValidation,
    }),
  };
  log('info', `Training ${decoder.options.variant}/${decoder.options.cell} on ${options.backend.name}: ${trainCaptions.length} captions, batch ${batchSize}, ${perEpoch} steps per epoch, ${parameters.toLocaleString('en-US')} weights.`);
  return run;
}

/** One warning line naming the images training left out (the full list is on the `started` event). */
function skippedImagesWarning(skipped: TrainingModel['data']['skippedImages']): string {
  const shown = skipped.slice(0, 5).map((image) => `${image.file} (${image.reason})`);
  const more = skipped.length > shown.length ? ` and ${skipped.length - shown.length} more` : '';
  return `${skipped.length} image${skipped.length === 1 ? '' : 's'} could not be decoded and ${skipped.length === 1 ? 'is' : 'are'} left out of training and validation: ${shown.join(', ')}${more}.`;
}

/** weights.bin holds the average when the run keeps one; the optimizer's own weights are then in trained.bin. */
function restoreWeights(resumed: LoadedCheckpoint, named: ReadonlyArray<[string, tf.Variable]>, optimizer: AdamOptimizer, average: WeightAverage | null): void {
  assignWeights(named, resumed.trained ?? resumed.weights, resumed.path);
  average?.load(resumed.weights, resumed.path);
  if (resumed.optimizer) optimizer.load(resumed.optimizer);
}

interface StepSettings {
  /** Learning rate per parameter name. */
  learningRate: (name: string) => number;
  samplingProbability: number;
  labelSmoothing: number;
  clipNorm: number;
  dropoutSeed: number;
  samplingSeed: number;
}

/**
 * What fixes a step's ops (not their inputs): steps with the same signature
 * share one graph (ml/graph/graphSteps.ts), which checks each replay anyway.
 */
function stepSignature(batch: HostBatch, variables: tf.Variable[], settings: StepSettings): string {
  return JSON.stringify([batch.rows, batch.steps, batch.images.length, batch.distinct?.images.length ?? null, batch.flips !== undefined, batch.verticalFlips !== undefined, variables.length, settings.samplingProbability > 0, settings.clipNorm > 0, settings.labelSmoothing > 0]);
}

/**
 * One optimizer step; every tensor it makes is released before it returns.
 * With `graphs` (native backend) the step runs as a TensorFlow graph once
 * its shape has been seen twice: same kernels and inputs, run by a session.
 */
export async function trainStep(
  model: TrainingModel,
  optimizer: AdamOptimizer,
  variables: tf.Variable[],
  varToName: Map<string, string>,
  batch: HostBatch,
  settings: StepSettings,
  graphs: GraphSteps | null = null,
): Promise<{ loss: number; gradNorm: number }> {
  const step = () => tf.tidy((): [tf.Tensor, tf.Tensor] => {
    const tensors = toTensors(batch, { lengths: !graphs?.active });
    const { value, grads } = tf.variableGrads(() => {
      const features = rowFeatures(model.source, batch);
      return model.decoder.loss(features, tensors, {
        training: true,
        dropoutSeed: settings.dropoutSeed,
        samplingProbability: settings.samplingProbability,
        samplingSeed: settings.samplingSeed,
        labelSmoothing: settings.labelSmoothing,
      }).total;
    }, variables);
    const named: Record<string, tf.Tensor> = {};
    for (const [variableName, grad] of Object.entries(grads)) named[varToName.get(variableName) ?? variableName] = grad;
    const clipped = clipByGlobalNorm(named, settings.clipNorm);
    optimizer.apply(clipped.grads, settings.learningRate);
    return [value, clipped.norm];
  });
  const [loss, norm] = graphs ? graphs.run(stepSignature(batch, variables, settings), step) : step();
  const [lossValue, normValue] = await Promise.all([loss.data(), norm.data()]);
  loss.dispose();
  norm.dispose();
  return { loss: lossValue[0]!, gradNorm: normValue[0]! };
}

async function serializeNamed(named: ReadonlyArray<[string, tf.Variable]>) {
  return Promise.all(named.map(async ([name, variable]) => ({ name, shape: [...variable.shape], data: (await variable.data()) as Float32Array })));
}
