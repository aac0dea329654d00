import { z } from 'zod';
import { TASK_KINDS, TASK_STATES, type TaskProgressEvent, type TaskRecord } from '../taskTypes';
import { event, returns } from './spec';
import { placementChoice } from './store';

// ─── tasks: every long job (training, evaluation, synthesis, import, batch, tuning) ─

export const taskId = z.number().int().min(1);

export const taskMethods = {
  'tasks.list': returns<TaskRecord[]>()(
    z
      .object({
        states: z.array(z.enum(TASK_STATES)).max(TASK_STATES.length).optional(),
        kinds: z.array(z.enum(TASK_KINDS)).max(TASK_KINDS.length).optional(),
        limit: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    'Tasks of every kind, newest first; queued ones carry their place in line.',
  ),
  'tasks.get': returns<TaskRecord>()(z.object({ taskId }).strict(), 'One task with its state, owner, progress, result and error.'),
  'tasks.stop': returns<{ stopping: boolean }>()(
    z.object({ taskId }).strict(),
    'Cancel a queued task, or ask a running one to finish its current step, save and stop.',
  ),
  'tasks.resume': returns<TaskRecord>()(
    z.object({ taskId }).strict(),
    'Queue a stopped, failed or crashed task again; it continues where it stopped when its kind allows.',
  ),
  'tasks.place': returns<TaskRecord>()(
    z.object({ taskId, placement: placementChoice }).strict(),
    'Give a queued task to the workers only, or back to anyone (this workbench included); a conflict once it has started.',
  ),
} as const;

export const taskEvents = {
  'task.updated': event<TaskRecord>('A task was queued, claimed, stopped, finished, crashed or resumed.'),
  'task.progress': event<TaskProgressEvent>('Progress of a running task: done, total, throughput and ETA.'),
} as const;
