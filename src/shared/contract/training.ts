import { z } from 'zod';
import { none, returns } from './spec';
import { runConfigSchema, type RunPreset } from '../runConfig';
import type { TrainingConfigSchema, TrainingEstimate, TrainingStartResult } from '../trainingTypes';

// ─── training ────────────────────────────────────────────────────────────────

export const trainingRunId = z.number().int().positive();

export const trainingMethods = {
  'training.start': returns<TrainingStartResult>()(
    z
      .object({
        config: runConfigSchema,
        tags: z.array(z.string().min(1).max(64)).max(32).default([]),
      })
      .strict(),
    'Create a run from a RunConfig and start training it; progress arrives as training.step / training.epoch events.',
  ),
  'training.resume': returns<TrainingStartResult>()(
    z.object({ runId: trainingRunId }).strict(),
    'Continue a stopped, failed or crashed run exactly from its newest checkpoint.',
  ),
  'training.stop': returns<{ stopping: boolean }>()(
    z.object({ runId: trainingRunId }).strict(),
    'Stop a training run after its current step; a checkpoint is saved and the run can be resumed.',
  ),
  'training.estimate': returns<TrainingEstimate>()(
    z.object({ config: runConfigSchema, steps: z.number().int().min(2).max(100).default(6) }).strict(),
    'Time a few real training steps of a configuration on the current backend: seconds per step and per epoch.',
  ),
  'training.presets': returns<RunPreset[]>()(none, 'Named starting configurations (shapes-quick, flickr8k-like).'),
  'training.configSchema': returns<TrainingConfigSchema>()(
    none,
    'The RunConfig as JSON Schema (titles, help texts, bounds, defaults) and the numeric fields a tuner may search.',
  ),
  'training.active': returns<Array<{ runId: number; taskId: number }>>()(none, 'Runs training in this workbench now.'),
} as const;

