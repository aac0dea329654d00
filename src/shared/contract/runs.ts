import { z } from 'zod';
import { event, none, returns } from './spec';

import { RUN_STATUSES, type ArtifactRecord, type CheckpointRecord, type EvaluationRecord, type MetricSeries, type ResumePoint, type RunComparison, type RunDeleted, type RunDetail, type RunExport, type MetricBatch, type RunList, type RunRecord, type SampleCaption } from '../storeTypes';

// ─── store: runs, metrics, artifacts ─────────────────────────────────────────

export const runId = z.number().int().min(1);
export const metricKey = z.string().min(1).max(200);
export const maxPoints = z.number().int().min(10).max(10_000).default(1000);

export const runMethods = {
  'runs.list': returns<RunList>()(
    z
      .object({
        status: z.array(z.enum(RUN_STATUSES)).max(RUN_STATUSES.length).optional(),
        tag: z.string().max(100).optional(),
        search: z.string().max(200).optional(),
        datasetId: z.number().int().min(1).optional(),
        /** Metrics whose best and last value each run carries (the runs table's columns). */
        metrics: z
          .array(z.object({ key: metricKey, goal: z.enum(['min', 'max']).optional() }).strict())
          .max(20)
          .default([]),
        limit: z.number().int().min(1).max(1000).default(100),
        offset: z.number().int().min(0).default(0),
      })
      .strict(),
    'Runs, newest first, with the best and last value of the chosen metrics.',
  ),
  'runs.get': returns<RunDetail>()(
    z.object({ runId }).strict(),
    'One run: config, status, best and last of every metric, last checkpoint, counts.',
  ),
  'runs.update': returns<RunRecord>()(
    z
      .object({
        runId,
        name: z.string().trim().min(1).max(200).optional(),
        notes: z.string().max(20_000).optional(),
        tags: z.array(z.string().trim().min(1).max(100)).max(50).optional(),
      })
      .strict(),
    'Rename a run, or change its notes or tags.',
  ),
  'runs.delete': returns<RunDeleted>()(
    z.object({ runId, force: z.boolean().default(false) }).strict(),
    'Delete a run with its metrics, checkpoints and files; a queued or running run needs force.',
  ),
  'runs.export': returns<RunExport>()(
    z.object({ runId }).strict(),
    'A run as one JSON document: config, every metric point, checkpoints, samples, evaluations.',
  ),
  'runs.metrics': returns<MetricSeries[]>()(
    z
      .object({
        runId,
        /** Defaults to every key the run logged. */
        keys: z.array(metricKey).min(1).max(50).optional(),
        maxPoints,
        fromStep: z.number().int().min(0).optional(),
        toStep: z.number().int().min(0).optional(),
      })
      .strict(),
    'Metric series of a run by step, reduced with LTTB to at most maxPoints for charts.',
  ),
  'runs.compare': returns<RunComparison>()(
    z
      .object({
        runIds: z.array(runId).min(1).max(12),
        /** Defaults to every key any of the runs logged. */
        keys: z.array(metricKey).min(1).max(20).optional(),
        axis: z.enum(['step', 'epoch']).default('epoch'),
        maxPoints,
      })
      .strict(),
    'Several runs on shared axes (one aligned series per metric) and their config differences.',
  ),
  'runs.samples': returns<SampleCaption[]>()(
    z
      .object({ runId, epoch: z.number().int().min(0).optional(), limit: z.number().int().min(1).max(5000).default(500) })
      .strict(),
    'Sample captions the run wrote at the end of its epochs.',
  ),
  'runs.checkpoints': returns<CheckpointRecord[]>()(z.object({ runId }).strict(), 'Checkpoints of a run, oldest first.'),
  'runs.artifacts': returns<ArtifactRecord[]>()(z.object({ runId }).strict(), 'Files a run produced, oldest first.'),
  'runs.evaluations': returns<EvaluationRecord[]>()(
    z.object({ runId }).strict(),
    'Evaluations of a run with their decoding settings and metric definitions, newest first.',
  ),
  'runs.resumePoint': returns<ResumePoint | null>()(
    z.object({ runId }).strict(),
    'Where a stopped or crashed run would continue: newest checkpoint, epoch and step; null without one.',
  ),
  'runs.tags': returns<string[]>()(none, 'Every tag in use, sorted.'),
} as const;


export const runEvents = {
  'run.updated': event<RunRecord>('A run was created, renamed, tagged or changed status.'),
  'run.deleted': event<{ runId: number }>('A run and its files were deleted.'),
  'run.metrics': event<MetricBatch>('Metric points of a run were committed (the live dashboard feed).'),
} as const;
