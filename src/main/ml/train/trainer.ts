/**
 * The training loop. Custom rather than tfjs-layers' `fit`: teacher forcing
 * with optional scheduled sampling, Adam/AdamW with global-norm clipping and
 * learning-rate schedules, validation with real caption metrics every epoch,
 * atomic checkpoints, early stopping, and exact resume.
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
import type {
  TrainingCheckpoint,
  TrainingEpoch,
  TrainingEvent,
  TrainingResult,
  TrainingStarted,
  TrainingStep,
} from '../../../shared/trainingTypes';
import type { BackendInfo } from '../../../shared/types';
import { Vocabulary } from '../../lib/data/text/vocabulary';
import { deriveSeed } from '../model/rng';
import { epochOrder, hostBatch, stepsPerEpoch as countSteps, toTensors, type HostBatch } from './batches';
import {
  BEST_CHECKPOINT,
  epochCheckpointName,
  readCheckpoint,
  stepCheckpointName,
  writeCheckpoint,
  type EpochRecord,
  type LoadedCheckpoint,
  type TrainingState,
} from './checkpoint';
import { loadTrainingData } from './data';
import { initialEarlyStopping, metricGoal, recordEpoch, shouldStop } from './earlyStopping';
import { estimateStepBytes, memoryBudget, trainingWarnings } from './hardware';
import { setUpModel, type TrainingModel } from './modelSetup';
import { AdamOptimizer, clipByGlobalNorm } from './optimizer';
import { initialPlateauState, learningRateAt, samplingProbabilityAt, updatePlateau } from './schedule';
import { validate, validationSubset, yieldToEvents } from './validation';
import { ensureTrainingKernels } from './wasmKernels';

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
  /** Least time between step events (default 500 ms; the last step of an epoch always reports). */
  stepEventIntervalMs?: number;
  onEvent?(event: TrainingEvent): void;
  onProgress?(progress: { stage: string; done: number; total: number | null; etaSeconds?: number | null; message?: string }): void;
  log?(level: 'info' | 'warn', message: string): void;
}

/** How often step events are emitted (the last step of an epoch always is). */
const STEP_EVENT_INTERVAL_MS = 500;

export async function train(options: TrainOptions): Promise<TrainingResult> {
  const log = options.log ?? (() => undefined);
  const emit = options.onEvent ?? (() => undefined);
  const progress = options.onProgress ?? (() => undefined);
  ensureTrainingKernels();
  const resumed: LoadedCheckpoint | null = options.resumeFrom ? await readCheckpoint(options.resumeFrom) : null;
  const config = resumed ? resumed.json.config : options.config;
  const seed = config.training.seed;

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
  try {
    return await runLoop(options, config, model, optimizer, resumed, seed, emit, progress, log);
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

async function runLoop(
  options: TrainOptions,
  config: RunConfig,
  model: TrainingModel,
  optimizer: AdamOptimizer,
  resumed: LoadedCheckpoint | null,
  seed: number,
  emit: (event: TrainingEvent) => void,
  progress: NonNullable<TrainOptions['onProgress']>,
  log: (level: 'info' | 'warn', message: string) => void,
): Promise<TrainingResult> {
  const { data, decoder, source } = model;
  const named = model.namedParams();
  const parameters = named.reduce((sum, [, variable]) => sum + variable.size, 0);
  const maxSteps = config.vocab.maxCaptionLength + 1;

  const fits = (batchSize: number) =>
    estimateStepBytes({
      decoder: decoder.options,
      batchSize,
      steps: maxSteps,
      gridRegions: source.gridRegions,
      cnn: model.encoder ? { inputSize: model.encoder.options.inputSize, channels: model.encoder.options.channels } : null,
      parameters,
    }) <= memoryBudget(options.backend);
  const batchSize = resumed ? resumed.json.state.batchSize : resolveBatchSize(config.training.batchSize, fits);
  const warnings = trainingWarnings(options.backend);
  if (!fits(batchSize)) warnings.push(`A step with batch size ${batchSize} may not fit in memory on this machine; lower training.batchSize if training fails.`);
  for (const warning of warnings) log('warn', warning);

  let state: TrainingState = resumed
    ? resumed.json.state
    : {
        epochsCompleted: 0,
        stepInEpoch: 0,
        globalStep: 0,
        epochLossSum: 0,
        epochLossCount: 0,
        batchSize,
        plateau: initialPlateauState(),
        earlyStopping: initialEarlyStopping(config.training.earlyStoppingMetric),
        history: [],
        random: { seed, epoch: 0, step: 0 },
        finished: false,
      };
  if (resumed) {
    const byName = new Map(named);
    for (const tensor of resumed.weights) {
      if (!byName.has(tensor.name)) throw new Error(`${resumed.path}: weights for "${tensor.name}", which this model does not have.`);
    }
    for (const [name, variable] of named) {
      const saved = resumed.weights.find((tensor) => tensor.name === name);
      if (!saved) throw new Error(`${resumed.path}: no weights for "${name}".`);
      if (saved.shape.join('x') !== variable.shape.join('x')) throw new Error(`${resumed.path}: "${name}" has shape [${saved.shape}], the model [${variable.shape}].`);
      tf.tidy(() => variable.assign(tf.tensor(saved.data, saved.shape, 'float32')));
    }
    if (resumed.optimizer) optimizer.load(resumed.optimizer);
  }

  const trainCaptions = data.train.captions;
  if (state.trainCaptions !== undefined && state.trainCaptions !== trainCaptions.length) {
    const message = `The dataset now has ${trainCaptions.length} training captions, the checkpoint was trained on ${state.trainCaptions}: training continues, but not exactly as it would have.`;
    warnings.push(message);
    log('warn', message);
  }
  state = { ...state, trainCaptions: trainCaptions.length };
  const perEpoch = countSteps(trainCaptions.length, batchSize);
  const epochs = config.training.epochs;
  const checkpointDir = join(options.runDir, 'checkpoints');
  const subset = validationSubset(data.val, config.validation.subsetSize, seed);
  const varToName = new Map(named.map(([name, variable]) => [variable.name, name]));
  const decoderVariables = named.filter(([name]) => !name.startsWith('encoder/')).map(([, variable]) => variable);
  const allVariables = named.map(([, variable]) => variable);
  // A scratch CNN learns at the decoder's rate; a fine-tuned backbone at its own, following the same schedule.
  const encoderRateScale = model.encoder ? 1 : config.encoder.fineTune.learningRate / config.optimizer.learningRate;

  const started: TrainingStarted = {
    kind: 'started',
    backend: options.backend.name,
    device: options.backend.device,
    batchSize,
    stepsPerEpoch: perEpoch,
    epochs,
    trainImages: data.train.images.length,
    trainCaptions: trainCaptions.length,
    valImages: data.val.images.length,
    validationImages: subset.length,
    vocabularySize: data.vocabulary.size,
    parameters,
    warnings,
    resumedFrom: resumed?.path ?? null,
    epochsCompleted: state.epochsCompleted,
    globalStep: state.globalStep,
  };
  emit(started);
  log('info', `Training ${decoder.options.variant}/${decoder.options.cell} on ${options.backend.name}: ${trainCaptions.length} captions, batch ${batchSize}, ${perEpoch} steps per epoch, ${parameters.toLocaleString('en-US')} weights.`);

  let lastCheckpoint: string | null = resumed?.path ?? null;
  let bestCheckpoint: string | null = state.earlyStopping.bestEpoch !== null ? join(checkpointDir, BEST_CHECKPOINT) : null;
  let lastValidation: TrainingResult['validation'] = null;
  const last = state.history[state.history.length - 1];
  if (last) lastValidation = { valLoss: last.valLoss, bleu4: last.bleu4, ciderD: last.ciderD };
  let stepsThisCall = 0;
  let secondsPerStep: number | null = null;
  let validationSeconds = 0;
  let lastStepEvent = 0;
  let recent: Array<[number, number, number]> = [];
  const stepEventInterval = options.stepEventIntervalMs ?? STEP_EVENT_INTERVAL_MS;

  const saveCheckpoint = async (name: string, reason: TrainingCheckpoint['reason'], isBest: boolean, metrics: Record<string, number>) => {
    const path = join(checkpointDir, name);
    const [weights, optimizerState] = await Promise.all([serializeNamed(named), optimizer.serialize()]);
    const sizeBytes = await writeCheckpoint(path, {
      json: {
        backend: options.backend.name,
        config,
        decoder: decoder.options,
        encoder: model.encoderRecord,
        vocabulary: data.vocabulary.toJson(),
        state,
        metrics,
      },
      weights,
      optimizer: optimizerState,
    });
    emit({ kind: 'checkpoint', path, epoch: state.epochsCompleted, globalStep: state.globalStep, isBest, reason, sizeBytes, metrics });
    return path;
  };

  const finish = (outcome: TrainingResult['outcome']): TrainingResult => ({
    outcome,
    epochsCompleted: state.epochsCompleted,
    globalStep: state.globalStep,
    lastCheckpoint,
    bestCheckpoint,
    bestEpoch: state.earlyStopping.bestEpoch,
    validation: lastValidation,
  });

  if (state.finished) return finish('completed');

  while (state.epochsCompleted < epochs) {
    const epoch = state.epochsCompleted; // 0-based index of the epoch in progress
    const order = epochOrder(seed, epoch, trainCaptions.length);
    const epochStarted = performance.now();

    for (let step = state.stepInEpoch; step < perEpoch; step++) {
      if (options.signal?.aborted || (options.maxSteps !== undefined && stepsThisCall >= options.maxSteps)) {
        lastCheckpoint = await saveCheckpoint(stepCheckpointName(state.globalStep), 'stop', false, {});
        return finish('stopped');
      }
      const progressInEpochs = epoch + step / perEpoch;
      const learningRate = learningRateAt(config.schedule, config.optimizer.learningRate, progressInEpochs, epochs, state.plateau);
      const samplingProbability = samplingProbabilityAt(config.training, progressInEpochs);
      const batch = hostBatch(order.slice(step * batchSize, (step + 1) * batchSize).map((index) => trainCaptions[index]!));
      const stepStarted = performance.now();
      const variables = source.trainsAt && !source.trainsAt(epoch) ? decoderVariables : allVariables;
      const { loss, gradNorm } = await trainStep(model, optimizer, variables, varToName, batch, {
        learningRate: (name: string) => (name.startsWith('encoder/') ? learningRate * encoderRateScale : learningRate),
        samplingProbability,
        labelSmoothing: config.training.labelSmoothing,
        clipNorm: config.optimizer.clipNorm,
        dropoutSeed: deriveSeed(seed, 'dropout', state.globalStep),
        samplingSeed: deriveSeed(seed, 'sampling', state.globalStep),
      });
      const seconds = (performance.now() - stepStarted) / 1000;
      secondsPerStep = secondsPerStep === null ? seconds : 0.9 * secondsPerStep + 0.1 * seconds;
      if (!Number.isFinite(loss)) {
        throw new Error(
          `The training loss became ${loss} at step ${state.globalStep + 1} (epoch ${epoch + 1}). Lower optimizer.learningRate or set optimizer.clipNorm.`,
        );
      }
      state = {
        ...state,
        stepInEpoch: step + 1,
        globalStep: state.globalStep + 1,
        epochLossSum: state.epochLossSum + loss * batch.rows,
        epochLossCount: state.epochLossCount + batch.rows,
        random: { seed, epoch, step: step + 1 },
      };
      stepsThisCall += 1;
      recent.push([state.globalStep, loss, learningRate]);

      const now = performance.now();
      if (now - lastStepEvent >= stepEventInterval || step + 1 === perEpoch) {
        lastStepEvent = now;
        const stepEvent: TrainingStep = {
          kind: 'step',
          epoch: epoch + 1,
          step: step + 1,
          stepsPerEpoch: perEpoch,
          globalStep: state.globalStep,
          loss,
          learningRate,
          gradNorm,
          seconds,
          tokensPerSecond: batch.tokens / Math.max(seconds, 1e-9),
          samplingProbability,
          recent,
        };
        recent = [];
        emit(stepEvent);
        const remainingSteps = (epochs - epoch - 1) * perEpoch + (perEpoch - step - 1);
        const remainingValidations = options.stepsOnly ? 0 : epochs - epoch;
        progress({
          stage: `epoch ${epoch + 1}/${epochs}`,
          done: step + 1,
          total: perEpoch,
          etaSeconds: remainingSteps * (secondsPerStep ?? seconds) + remainingValidations * validationSeconds,
          message: `loss ${loss.toFixed(3)}`,
        });
      }
      await yieldToEvents();
    }

    if (options.stepsOnly) {
      state = { ...state, epochsCompleted: epoch + 1, stepInEpoch: 0, epochLossSum: 0, epochLossCount: 0 };
      continue;
    }

    // ─── end of epoch: validate, schedule, early stopping, checkpoints ───
    progress({ stage: `validating epoch ${epoch + 1}/${epochs}`, done: 0, total: null });
    const validation = await validate(decoder, source, data.val, data.vocabulary, {
      subset,
      sampleImages: config.validation.sampleImages,
      batchSize: Math.max(batchSize, 32),
      maxLength: config.vocab.maxCaptionLength,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!validation) {
      // Stopped while validating: the steps are done (stepInEpoch = perEpoch), so a resume validates this epoch.
      lastCheckpoint = await saveCheckpoint(stepCheckpointName(state.globalStep), 'stop', false, {});
      return finish('stopped');
    }
    validationSeconds = validation.seconds;
    const learningRate = learningRateAt(config.schedule, config.optimizer.learningRate, epoch + 1, epochs, state.plateau);
    const metricValue = { cider: validation.ciderD, bleu4: validation.bleu4, valLoss: validation.valLoss }[config.training.earlyStoppingMetric];
    const record: EpochRecord = {
      epoch: epoch + 1,
      globalStep: state.globalStep,
      trainLoss: state.epochLossCount > 0 ? state.epochLossSum / state.epochLossCount : Number.NaN,
      valLoss: validation.valLoss,
      bleu4: validation.bleu4,
      ciderD: validation.ciderD,
      learningRate,
      seconds: (performance.now() - epochStarted) / 1000,
    };
    const early = recordEpoch(state.earlyStopping, epoch + 1, metricValue);
    const plateau =
      config.schedule.kind === 'plateau'
        ? updatePlateau(config.schedule, state.plateau, metricValue, metricGoal(config.training.earlyStoppingMetric))
        : state.plateau;
    const stopEarly = shouldStop(early.state, config.training.earlyStoppingPatience);
    state = {
      ...state,
      epochsCompleted: epoch + 1,
      stepInEpoch: 0,
      epochLossSum: 0,
      epochLossCount: 0,
      plateau,
      earlyStopping: early.state,
      history: [...state.history, record],
      random: { seed, epoch: epoch + 1, step: 0 },
      finished: stopEarly || epoch + 1 >= epochs,
    };
    lastValidation = { valLoss: validation.valLoss, bleu4: validation.bleu4, ciderD: validation.ciderD };
    const metrics = { 'val/loss': validation.valLoss, 'val/bleu4': validation.bleu4, 'val/ciderD': validation.ciderD, 'train/loss': record.trainLoss };
    const epochEvent: TrainingEpoch = {
      kind: 'epoch',
      ...record,
      epochs,
      validationSeconds: validation.seconds,
      improved: early.improved,
      bestEpoch: early.state.bestEpoch,
      samples: validation.samples,
    };
    emit(epochEvent);
    lastCheckpoint = await saveCheckpoint(epochCheckpointName(epoch + 1), 'epoch', false, metrics);
    if (early.improved) bestCheckpoint = await saveCheckpoint(BEST_CHECKPOINT, 'best', true, metrics);
    if (stopEarly) {
      log('info', `Early stopping after epoch ${epoch + 1}: ${config.training.earlyStoppingMetric} has not improved for ${config.training.earlyStoppingPatience} epochs.`);
      return finish('early-stopped');
    }
  }
  return finish('completed');
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

/** One optimizer step; every tensor it makes is released before it returns. */
export async function trainStep(
  model: TrainingModel,
  optimizer: AdamOptimizer,
  variables: tf.Variable[],
  varToName: Map<string, string>,
  batch: HostBatch,
  settings: StepSettings,
): Promise<{ loss: number; gradNorm: number }> {
  const [loss, norm] = tf.tidy(() => {
    const tensors = toTensors(batch);
    const { value, grads } = tf.variableGrads(() => {
      const features = model.source.features('train', batch.images, true);
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
  const [lossValue, normValue] = await Promise.all([loss.data(), norm.data()]);
  loss.dispose();
  norm.dispose();
  return { loss: lossValue[0]!, gradNorm: normValue[0]! };
}

async function serializeNamed(named: ReadonlyArray<[string, tf.Variable]>) {
  return Promise.all(named.map(async ([name, variable]) => ({ name, shape: [...variable.shape], data: (await variable.data()) as Float32Array })));
}
