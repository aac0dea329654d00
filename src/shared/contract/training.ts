import { z } from 'zod';
import { event, none, returns } from './spec';
import { placementChoice } from './store';
import { runConfigSchema, type RunPreset } from '../runConfig';
import type { TrainingConfigSchema, TrainingEpochEvent, TrainingEstimate, TrainingFinished, TrainingStartedEvent, TrainingStartResult, TrainingStepEvent } from '../trainingTypes';

// ─── training ────────────────────────────────────────────────────────────────

export const trainingRunId = z.number().int().positive();

export const trainingMethods = {
  'training.start': returns<TrainingStartResult>()(
    z
      .object({
        config: runConfigSchema,
        tags: z.array(z.string().min(1).max(64)).max(32).default([]),
        /** `here` (default: this workbench's engine, or any free worker) or `workers` (only `captioner worker` processes). */
        placement: placementChoice.optional(),
      })
      .strict(),
    'Create a run from a RunConfig and queue its training (here, or for the workers); progress arrives as training.step / training.epoch events.',
  ),
  'training.resume': returns<TrainingStartResult>()(
    z.object({ runId: trainingRunId, placement: placementChoice.optional() }).strict(),
    'Continue a stopped, failed or crashed run exactly from its newest checkpoint (placement omitted: where it was queued before).',
  ),
  'training.stop': returns<{ stopping: boolean }>()(
    z.object({ runId: trainingRunId }).strict(),
    'Stop a training run after its current step; a checkpoint is saved and the run can be resumed.',
  ),
  'training.estimate': returns<TrainingEstimate>()(
    z.object({ config: runConfigSchema, steps: z.number().int().min(2).max(100).default(8) }).strict(),
    'Time a few real training steps of a configuration on the current backend: seconds per step and per epoch.',
  ),
  'training.presets': returns<RunPreset[]>()(none, 'Named starting configurations (shapes-quick, shapes-grounded, flickr8k-like).'),
  'training.configSchema': returns<TrainingConfigSchema>()(
    none,
    'The RunConfig as JSON Schema (titles, help texts, bounds, defaults) and the numeric fields a tuner may search.',
  ),
  'training.active': returns<Array<{ runId: number; taskId: number }>>()(none, 'Runs training in this workbench now.'),
} as const;


export const trainingEvents = {
  'training.started': event<TrainingStartedEvent>('A run began (or resumed) training: backend, batch size, steps per epoch, and warnings to show (e.g. the slow pure-JS backend).'),
  'training.step': event<TrainingStepEvent>('Training progress of a run, at most about twice a second: loss, learning rate, throughput.'),
  'training.epoch': event<TrainingEpochEvent>('A run finished an epoch: losses, BLEU-4, CIDEr-D, learning rate and sample captions.'),
  'training.finished': event<TrainingFinished>('A training run ended: completed, stopped, failed or crashed, with its checkpoint.'),
} as const;
