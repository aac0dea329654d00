import { z } from 'zod';
import { none, returns } from './spec';
import { placementChoice } from './store';
import type { JsonObject, StudyRecord, TrialIntermediate, TrialRecord, TrialState } from '../storeTypes';
import { LEGACY_VALIDATION_KEYS, VALIDATION_KEYS } from '../metricKeys';

// ─── tuning ──────────────────────────────────────────────────────────────────

const studyId = z.number().int().positive();
/** A sampler or pruner: its name, or `{ name, options }` (see docs/tuning.md for each one's options). */
const algorithm = z.union([
  z.string().min(1).max(100),
  z.object({ name: z.string().min(1).max(100), options: z.record(z.string(), z.unknown()).optional() }).strict(),
]);

export interface StudyTrial extends TrialRecord {
  /** The objective per epoch (step = epoch, 1-based). */
  intermediates: TrialIntermediate[];
}

export interface StudyDetails {
  study: StudyRecord;
  trials: StudyTrial[];
  /** The completed trial with the best value, if any. */
  best: TrialRecord | null;
}

export interface StudyImportance {
  /** Complete trials the importances come from. */
  completeTrials: number;
  /** PED-ANOVA importance per parameter, summing to 1, most important first. */
  importances: Record<string, number>;
}

/** A study row for the studies list: its trial counts by outcome and its best value. */
export interface StudyOverview {
  study: StudyRecord;
  /** Trials queued or training now. */
  active: number;
  completed: number;
  pruned: number;
  /** Failed, cancelled or crashed trials. */
  failed: number;
  best: { trialNumber: number; value: number } | null;
}

/** A study's budget, as its task was given it. */
export interface StudyBudget {
  /** Finished trials the study runs to. */
  trials: number;
  /** Trials in progress at once. */
  parallel: number;
  /** Seconds from creation after which no trial starts; null without a time limit. */
  timeoutSeconds: number | null;
}

/** One trial in a study export: everything about it, its intermediate values included. */
export interface ExportedTrial {
  number: number;
  state: TrialState;
  params: JsonObject;
  value: number | null;
  /** The objective per step (epoch, 1-based). */
  intermediates: TrialIntermediate[];
  runId: number | null;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A whole study as one document (`captioner study export`, `tuning.export`). */
export interface StudyExport {
  format: 'captioner-study';
  version: 1;
  exportedAt: string;
  study: { id: number; name: string; status: string; objective: string; direction: 'minimize' | 'maximize'; createdAt: string; updatedAt: string };
  budget: StudyBudget;
  searchSpace: JsonObject;
  /** As stored: a name or the JSON text of `{ name, options }`. */
  sampler: string;
  pruner: string;
  baseConfig: JsonObject;
  trials: ExportedTrial[];
  best: { number: number; value: number; params: JsonObject; runId: number | null } | null;
}

/** An objective: a validation metric the training loop stores every epoch (earlier names read too). */
const objective = z.preprocess((value) => (typeof value === 'string' ? (LEGACY_VALIDATION_KEYS[value] ?? value) : value), z.enum(VALIDATION_KEYS));

export const tuningMethods = {
  'tuning.create': returns<StudyRecord>()(
    z
      .object({
        name: z.string().min(1).max(200),
        objective,
        /** Default: minimise a loss, maximise a score. */
        direction: z.enum(['minimize', 'maximize']).optional(),
        /** JSON search space over RunConfig paths; the default space from the RunConfig hints when left out. */
        searchSpace: z.record(z.string(), z.unknown()).optional(),
        sampler: algorithm.optional(),
        pruner: algorithm.optional(),
        /** The run config every trial starts from; it must name a dataset. */
        baseConfig: z.record(z.string(), z.unknown()),
        trials: z.number().int().min(1).max(100_000).default(20),
        parallel: z.number().int().min(1).max(256).default(1),
        /** Budget in seconds from creation: no trial starts after it; running trials finish. */
        timeoutSeconds: z.number().positive().max(365 * 86_400).optional(),
        /** `workers`: the study and its trials' runs are queued for `captioner worker` processes only. */
        placement: placementChoice.optional(),
      })
      .strict(),
    'Create a tuning study and queue it: trials are suggested by its sampler, trained as runs and pruned by its pruner.',
  ),
  'tuning.list': returns<StudyRecord[]>()(none, 'Tuning studies, newest first.'),
  'tuning.overview': returns<StudyOverview[]>()(none, 'Every study, newest first, with its trial counts (active, completed, pruned, failed) and its best value.'),
  'tuning.get': returns<StudyDetails>()(z.object({ studyId }).strict(), 'A study with its trials, their per-epoch objective values and the best trial.'),
  'tuning.stop': returns<{ stopping: boolean }>()(z.object({ studyId }).strict(), 'Stop a study: its running trials are cancelled and their runs stop after their current step.'),
  'tuning.resume': returns<StudyRecord>()(
    z.object({ studyId, placement: placementChoice.optional() }).strict(),
    'Continue a stopped or crashed study where it was (placement omitted: where it was queued before).',
  ),
  'tuning.importance': returns<StudyImportance>()(z.object({ studyId }).strict(), 'PED-ANOVA importance of each parameter of a study (recomputed when a trial completes).'),
  'tuning.enqueue': returns<TrialRecord>()(
    z
      .object({
        studyId,
        /** Parameters to fix, by RunConfig path; each must be in the study's search space. The others are sampled when the trial starts. */
        params: z.record(z.string().min(1).max(200), z.union([z.string(), z.number(), z.boolean(), z.null()])),
      })
      .strict(),
    'Enqueue a trial with some parameters fixed: it runs before sampled trials (counting against the budget), the parameters not given are sampled when it starts.',
  ),
  'tuning.export': returns<StudyExport>()(
    z.object({ studyId }).strict(),
    'A whole study as one document: its settings, budget, search space, sampler and pruner, and every trial with its parameters, state, value, intermediate values and run.',
  ),
  'tuning.defaultSpace': returns<JsonObject>()(none, 'The search space built from the RunConfig hints (what a study searches when given none).'),
} as const;
