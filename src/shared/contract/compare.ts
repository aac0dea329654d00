/**
 * The compare page's methods: a side-by-side runs table, curves of many runs
 * on one axis (grouped with min/max/mean), and the captions several runs'
 * evaluations wrote for the same images. Answers are plain data the renderer
 * draws as they are.
 */
import { z } from 'zod';
import { returns } from './spec';
import type { EvaluationRecord, JsonPrimitive, MetricGoal, MetricValueAt, RunStatus } from '../storeTypes';

// ─── answers ─────────────────────────────────────────────────────────────────

/** The most runs one comparison takes: the table, the curves and parallel coordinates. */
export const MAX_COMPARED_RUNS = 50;
/** The most evaluations compared image by image. */
export const MAX_COMPARED_EVALUATIONS = 8;

export interface ComparedRun {
  id: number;
  name: string;
  status: RunStatus;
  tags: string[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** From start to finish (to now while it runs); null for a run that never started. */
  durationMs: number | null;
}

/** One config setting across the runs: a row of the table. */
export interface ConfigRow {
  /** Dotted path into the config, e.g. `decoder.units`. */
  path: string;
  /** One value per run, in the runs' order; null where a run's config has none. */
  values: JsonPrimitive[];
  /** False when every run has the same value. */
  differs: boolean;
}

export interface MetricCell {
  best: MetricValueAt | null;
  last: MetricValueAt | null;
  count: number;
}

export interface MetricRow {
  key: string;
  goal: MetricGoal;
  /** One cell per run, in the runs' order. */
  cells: MetricCell[];
}

export interface CompareTable {
  runs: ComparedRun[];
  config: ConfigRow[];
  metrics: MetricRow[];
}

export const CURVE_AXES = ['step', 'epoch', 'time'] as const;
export type CurveAxis = (typeof CURVE_AXES)[number];

export interface RunCurve {
  runId: number;
  /** Steps, epochs, or seconds since the run started. */
  x: number[];
  y: number[];
  /** True when the stored points were reduced to fit `maxPoints`. */
  reduced: boolean;
}

/** Runs that belong together (seeds of one setting, or one value of a parameter). */
export interface RunGroup {
  label: string;
  runIds: number[];
}

/** One group's band on a shared x: the mean line and the min/max envelope over its runs. */
export interface GroupBand {
  label: string;
  runIds: number[];
  x: number[];
  mean: number[];
  min: number[];
  max: number[];
  /** How many runs had a value at each x. */
  n: number[];
}

export interface MetricCurves {
  key: string;
  goal: MetricGoal;
  runs: RunCurve[];
  /** Empty unless the request grouped the runs. */
  bands: GroupBand[];
}

export interface CompareCurves {
  axis: CurveAxis;
  runs: Array<{ id: number; name: string }>;
  groups: RunGroup[];
  metrics: MetricCurves[];
}

/** A word of a caption and whether it is missing from another run's caption of the image. */
export interface CaptionWord {
  text: string;
  differs: boolean;
}

export interface ComparedCaption {
  evaluationId: number;
  caption: string;
  words: CaptionWord[];
  scores: Record<string, number>;
}

export interface CaptionRow {
  imageId: string;
  imagePath: string | null;
  references: string[];
  /** One per evaluation, in the request's order. */
  captions: ComparedCaption[];
  /** 0 when every caption says the same words, up to 1 when they share none. */
  disagreement: number;
  /** Highest minus lowest score of the chosen metric. */
  spread: number;
}

export interface ComparedEvaluation extends EvaluationRecord {
  runName: string | null;
  /** The epoch of the checkpoint it captioned, when known. */
  checkpointEpoch: number | null;
}

export interface CaptionComparison {
  evaluations: ComparedEvaluation[];
  metric: string;
  sort: CaptionSort;
  /** Images every evaluation captioned. */
  total: number;
  /** Of those, images where every caption is the same. */
  identical: number;
  meanDisagreement: number;
  rows: CaptionRow[];
}

export const CAPTION_SORTS = ['disagreement', 'spread', 'image'] as const;
export type CaptionSort = (typeof CAPTION_SORTS)[number];

// ─── requests ────────────────────────────────────────────────────────────────

const runIds = z.array(z.number().int().min(1)).min(1).max(MAX_COMPARED_RUNS);
const configPath = z.string().min(1).max(300);

export const curveGrouping = z.discriminatedUnion('by', [
  /** Runs with the same value at `path` form a group. */
  z.object({ by: z.literal('value'), path: configPath }).strict(),
  /** Runs whose configs differ only at the `ignore` paths (seeds, names) form a group. */
  z.object({ by: z.literal('replicates'), ignore: z.array(configPath).min(1).max(20) }).strict(),
]);
export type CurveGrouping = z.infer<typeof curveGrouping>;

export const compareMethods = {
  'compare.table': returns<CompareTable>()(
    z
      .object({
        runIds,
        /** Defaults to every key any of the runs logged. */
        metrics: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
      })
      .strict(),
    'Runs side by side: every config value (marked where they differ), best (with its epoch) and last of every metric, duration and status.',
  ),
  'compare.curves': returns<CompareCurves>()(
    z
      .object({
        runIds,
        /** Defaults to every key any of the runs logged. */
        keys: z.array(z.string().min(1).max(200)).min(1).max(30).optional(),
        axis: z.enum(CURVE_AXES).default('step'),
        /** Points per run and key (and per group band). */
        maxPoints: z.number().int().min(10).max(5000).default(500),
        group: curveGrouping.optional(),
      })
      .strict(),
    'Metric curves of several runs on one axis (step, epoch or seconds since start), optionally grouped with min/max/mean bands.',
  ),
  'compare.captions': returns<CaptionComparison>()(
    z
      .object({
        evaluationIds: z.array(z.number().int().min(1)).min(2).max(MAX_COMPARED_EVALUATIONS),
        sort: z.enum(CAPTION_SORTS).default('disagreement'),
        /** The per-image score shown and used for `spread`. */
        metric: z.string().min(1).max(100).default('ciderD'),
        limit: z.number().int().min(1).max(1000).default(50),
        offset: z.number().int().min(0).default(0),
      })
      .strict(),
    'The captions several evaluations on the same split wrote for the same images, side by side with differing words marked, sorted by disagreement.',
  ),
} as const;
