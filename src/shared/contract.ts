/**
 * The workbench API: every method (request schema and response type) and every
 * event, declared once. The main process validates requests against these
 * schemas; the preload, the WebSocket client and the CLI derive their typed
 * surfaces from the same declarations. No Node and no DOM in this file.
 *
 * Naming: methods are `namespace.verb`; events are `namespace.noun` and appear
 * in `window.api` as `onNamespaceNoun(callback)`.
 */
import { z } from 'zod';
import { runConfigSchema, type RunPreset } from './runConfig';
import type {
  TrainingConfigSchema,
  TrainingEpochEvent,
  TrainingEstimate,
  TrainingFinished,
  TrainingStartResult,
  TrainingStartedEvent,
  TrainingStepEvent,
} from './trainingTypes';
import { EVAL_SPLITS, type EvaluationDetail, type ModelCaptions, type ModelPackageInfo, type ScoreReport } from './inferenceTypes';
import {
  DATASET_FORMATS,
  SPLIT_NAMES,
  type BrowsePage,
  type CreateShapesResult,
  type DatasetStats,
  type DatasetSummary,
  type GroundedScore,
  type ImageDetail,
} from './datasetsTypes';
import type {
  EngineStatus,
  JobFinished,
  JobProgress,
  JobSummary,
  LogEntry,
  SystemInfo,
} from './types';
import {
  RUN_STATUSES,
  type ArtifactRecord,
  type CheckpointRecord,
  type EvaluationRecord,
  type MetricBatch,
  type MetricSeries,
  type ResumePoint,
  type RunComparison,
  type RunDeleted,
  type RunDetail,
  type RunExport,
  type RunList,
  type RunRecord,
  type SampleCaption,
} from './storeTypes';

/** A method: its request schema plus a phantom response type. */
export interface MethodSpec<Req extends z.ZodType, Res> {
  readonly request: Req;
  readonly summary: string;
  /** Phantom: carries the response type, never read at run time. */
  readonly response?: Res;
}

/** `returns<Res>()(schema, summary)` declares a method answering `Res`. */
const returns =
  <Res>() =>
  <Req extends z.ZodType>(request: Req, summary: string): MethodSpec<Req, Res> => ({ request, summary });

/** An event carrying `Payload`; the value only names it at run time. */
export interface EventSpec<Payload> {
  readonly summary: string;
  readonly payload?: Payload;
}
const event = <Payload>(summary: string): EventSpec<Payload> => ({ summary });

const none = z.object({}).strict();
const id = z.string().min(1).max(200);

// ─── system ──────────────────────────────────────────────────────────────────

const systemMethods = {
  'system.info': returns<SystemInfo>()(none, 'App, backend, hardware and library versions.'),
  'system.logs': returns<LogEntry[]>()(
    z.object({ limit: z.number().int().min(1).max(5000).default(500) }).strict(),
    'Recent log lines from the main process and the engine.',
  ),
  'engine.restart': returns<EngineStatus>()(none, 'Stop the engine process and start a new one.'),
} as const;

// ─── jobs ────────────────────────────────────────────────────────────────────

const jobMethods = {
  'jobs.list': returns<JobSummary[]>()(none, 'Long jobs of this session, newest first.'),
  'jobs.cancel': returns<{ cancelled: boolean }>()(
    z.object({ jobId: id }).strict(),
    'Ask a running job to stop; it finishes its current step and saves.',
  ),
} as const;

// ─── datasets ────────────────────────────────────────────────────────────────

const datasetId = z.number().int().min(1);
const fsPath = z.string().trim().min(1).max(4096);
const datasetFormat = z.enum(DATASET_FORMATS);
const shapesOptions = {
  images: z.number().int().min(1).max(200_000).default(2000),
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
  imageSize: z.number().int().min(32).max(512).default(128),
  format: z.enum(['png', 'jpeg']).default('png'),
  maxObjects: z.number().int().min(1).max(3).default(3),
  textures: z.boolean().default(true),
};

const datasetMethods = {
  'datasets.import': returns<DatasetSummary>()(
    z
      .object({
        path: fsPath.describe('A dataset folder or annotation file.'),
        format: datasetFormat.optional().describe('Detected when left out.'),
        name: z.string().trim().min(1).max(200).optional(),
        imagesDir: fsPath.optional().describe('The image folder, when it is not where the format puts it.'),
      })
      .strict(),
    'Read a dataset (format detected), register it, and open its image folder to the UI. Importing a path again refreshes it.',
  ),
  'datasets.list': returns<DatasetSummary[]>()(none, 'Registered datasets, newest first.'),
  'datasets.remove': returns<{ removed: boolean }>()(
    z.object({ datasetId }).strict(),
    'Forget a dataset (its files stay on disk; runs keep their rows).',
  ),
  'datasets.stats': returns<DatasetStats>()(
    z
      .object({
        datasetId: datasetId.optional(),
        path: fsPath.optional(),
        format: datasetFormat.optional(),
        imagesDir: fsPath.optional(),
        minCount: z.number().int().min(1).max(1000).default(5),
        topWords: z.number().int().min(0).max(500).default(25),
      })
      .strict()
      .refine((r) => (r.datasetId === undefined) !== (r.path === undefined), { message: 'Give either datasetId or path.' }),
    'Counts per split, caption lengths, vocabulary size at minCount, top words and problems of a registered dataset or of any path.',
  ),
  'datasets.browse': returns<BrowsePage>()(
    z
      .object({
        datasetId,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(500).default(50),
        search: z.string().max(200).optional(),
        split: z.enum([...SPLIT_NAMES, 'none']).optional(),
      })
      .strict(),
    'A page of images with their captions; filter by words in the captions and by split.',
  ),
  'datasets.image': returns<ImageDetail>()(
    z.object({ datasetId, imageId: z.string().min(1).max(4096) }).strict(),
    'One image: size, format, captions and their tokens, and the scene for Shapes images.',
  ),
  'datasets.synth': returns<{ jobId: string }>()(
    z
      .object({ out: fsPath.describe('Folder to write the Shapes dataset into.'), ...shapesOptions, register: z.boolean().default(false) })
      .strict(),
    'Generate a Shapes dataset (a long job: follow job.progress; the result is a SynthResult).',
  ),
  'datasets.createShapes': returns<CreateShapesResult>()(
    z.object({ images: shapesOptions.images, seed: shapesOptions.seed }).strict(),
    'Generate the Shapes benchmark into the data folder and register it (first start); returns at once when it exists.',
  ),
  'datasets.groundedScore': returns<GroundedScore>()(
    z
      .object({
        scenes: fsPath.describe('A Shapes dataset folder or its scenes.json.'),
        captions: z
          .record(z.string().min(1).max(4096), z.string().max(2000))
          .refine((r) => Object.keys(r).length <= 200_000, { message: 'At most 200000 captions.' })
          .describe('Generated captions: image file name (or id) → caption.'),
      })
      .strict(),
    'How often generated captions state colours, shapes, sizes, counts, relations, positions and background correctly.',
  ),
} as const;

// ─── store: runs, metrics, artifacts ─────────────────────────────────────────

const runId = z.number().int().min(1);
const metricKey = z.string().min(1).max(200);
const maxPoints = z.number().int().min(10).max(10_000).default(1000);

const runMethods = {
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

// ─── training ────────────────────────────────────────────────────────────────

const trainingRunId = z.number().int().positive();

const trainingMethods = {
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
  'training.active': returns<Array<{ runId: number; jobId: string }>>()(none, 'Runs training in this workbench now.'),
} as const;

// ─── inference, evaluation, model packages ───────────────────────────────────

const inferenceFilePath = z.string().min(1).max(4096);

/** Decoding settings a request may set; the rest come from the defaults and the model's maximum caption length. */
const decodingSettings = z
  .object({
    strategy: z.enum(['greedy', 'beam', 'sample']).optional(),
    beamWidth: z.number().int().min(1).max(20).optional(),
    lengthPenalty: z.number().min(0).max(3).optional(),
    minLength: z.number().int().min(0).max(50).optional(),
    maxLength: z.number().int().min(1).max(100).optional(),
    noRepeatNgramSize: z.number().int().min(0).max(6).optional(),
    temperature: z.number().min(0.05).max(5).optional(),
    topK: z.number().int().min(0).max(100_000).optional(),
    topP: z.number().min(0.01).max(1).optional(),
    seed: z.number().int().min(0).max(2_147_483_647).optional(),
  })
  .strict()
  .default({});

const checkpointChoice = z.union([z.literal('best'), z.literal('last'), z.number().int().min(0).max(100_000)]).default('best');

const inferenceMethods = {
  'eval.score': returns<ScoreReport>()(
    z
      .object({
        refs: inferenceFilePath.describe('Reference captions: COCO annotations JSON or a Karpathy split JSON.'),
        results: inferenceFilePath.describe('Candidate captions in the COCO results format: [{"image_id", "caption"}].'),
        perImage: z.boolean().default(false),
      })
      .strict(),
    'Score a COCO results file against references with BLEU-1..4, ROUGE-L and CIDEr-D (coco-caption definitions).',
  ),
  'eval.start': returns<{ jobId: string }>()(
    z
      .object({
        runId: z.number().int().min(1),
        checkpoint: checkpointChoice,
        split: z.enum(EVAL_SPLITS).default('test'),
        /** Another dataset to evaluate on; default: the run's own. */
        dataset: inferenceFilePath.optional(),
        decoding: decodingSettings,
        /** Only the first N images of the split (0 = all). */
        limit: z.number().int().min(0).max(10_000_000).default(0),
        batchSize: z.number().int().min(1).max(256).default(16),
      })
      .strict(),
    'Evaluate a checkpoint on a split as a job: captions, per-image and aggregate scores stored with the decoding and metric definitions, and a COCO results file.',
  ),
  'eval.get': returns<EvaluationDetail>()(
    z
      .object({
        evaluationId: z.number().int().min(1),
        limit: z.number().int().min(1).max(100_000).default(500),
        offset: z.number().int().min(0).default(0),
      })
      .strict(),
    'One evaluation: settings, aggregate scores, and a page of its images with captions, references and scores.',
  ),
  'eval.list': returns<EvaluationRecord[]>()(
    z.object({ runId: z.number().int().min(1).optional() }).strict(),
    'Evaluations, newest first; runId narrows to one run.',
  ),
  'models.export': returns<ModelPackageInfo>()(
    z
      .object({
        runId: z.number().int().min(1),
        checkpoint: checkpointChoice,
        /** Absolute path of the package folder to write. */
        out: inferenceFilePath,
        name: z.string().trim().min(1).max(200).optional(),
        /** Default decoding written into the package. */
        decoding: decodingSettings,
        overwrite: z.boolean().default(false),
      })
      .strict(),
    'Export a checkpoint as a self-contained model package (tfjs weights, vocab.json, config.json, metrics, README, caption.mjs).',
  ),
  'models.import': returns<ModelPackageInfo>()(
    z
      .object({
        path: inferenceFilePath,
        name: z
          .string()
          .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, ".", "_" and "-" only')
          .optional(),
        overwrite: z.boolean().default(false),
      })
      .strict(),
    'Import a model package into the workbench (checked by loading it), under its name or the one given.',
  ),
  'models.list': returns<ModelPackageInfo[]>()(none, 'Imported model packages, by name.'),
  'models.caption': returns<ModelCaptions>()(
    z
      .object({
        /** An imported model's name, or a package folder. */
        model: z.string().min(1).max(4096),
        images: z.array(inferenceFilePath).min(1).max(1000),
        decoding: decodingSettings,
        batchSize: z.number().int().min(1).max(256).default(16),
      })
      .strict(),
    'Caption image files with a model package (its default decoding unless overridden); unreadable images get an error each.',
  ),
} as const;

// ─── the whole API ───────────────────────────────────────────────────────────

export const methods = {
  ...systemMethods,
  ...jobMethods,
  ...datasetMethods,
  ...runMethods,
  ...trainingMethods,
  ...inferenceMethods,
} as const;

export const events = {
  'system.log': event<LogEntry>('A log line from the main process or the engine.'),
  'engine.status': event<EngineStatus>('The engine started, crashed or restarted.'),
  'job.progress': event<JobProgress>('Progress of a long job.'),
  'job.finished': event<JobFinished>('A long job completed, failed or was cancelled.'),
  'run.updated': event<RunRecord>('A run was created, renamed, tagged or changed status.'),
  'run.deleted': event<{ runId: number }>('A run and its files were deleted.'),
  'run.metrics': event<MetricBatch>('Metric points of a run were committed (the live dashboard feed).'),
  'training.started': event<TrainingStartedEvent>('A run began (or resumed) training: backend, batch size, steps per epoch, and warnings to show (e.g. the slow pure-JS backend).'),
  'training.step': event<TrainingStepEvent>('Training progress of a run, at most about twice a second: loss, learning rate, throughput.'),
  'training.epoch': event<TrainingEpochEvent>('A run finished an epoch: losses, BLEU-4, CIDEr-D, learning rate and sample captions.'),
  'training.finished': event<TrainingFinished>('A training run ended: completed, stopped, failed or crashed, with its checkpoint.'),
} as const;

export type Methods = typeof methods;
export type MethodName = keyof Methods;
export type EventName = keyof typeof events;

/** What a caller sends (defaults still optional). */
export type RequestOf<M extends MethodName> = z.input<Methods[M]['request']>;
/** What a handler receives after validation (defaults applied). */
export type ParsedRequestOf<M extends MethodName> = z.output<Methods[M]['request']>;
export type ResponseOf<M extends MethodName> =
  Methods[M] extends MethodSpec<z.ZodType, infer Res> ? Res : never;
export type EventPayload<E extends EventName> =
  (typeof events)[E] extends EventSpec<infer P> ? P : never;

export const methodNames = Object.keys(methods) as MethodName[];
export const eventNames = Object.keys(events) as EventName[];

// ─── the typed surface seen by the renderer ──────────────────────────────────

type Namespace<M extends string> = M extends `${infer NS}.${string}` ? NS : never;
type CamelEvent<E extends string> = E extends `${infer A}.${infer B}`
  ? `${A}${Capitalize<CamelEvent<B>>}`
  : E;

export type ApiMethods = {
  [NS in Namespace<MethodName>]: {
    [M in MethodName as M extends `${NS}.${infer V}` ? V : never]: (
      request: RequestOf<M>,
    ) => Promise<ResponseOf<M>>;
  };
};

export type ApiEvents = {
  [E in EventName as `on${Capitalize<CamelEvent<E>>}`]: (
    listener: (payload: EventPayload<E>) => void,
  ) => () => void;
};

/** `window.api`: the same shape over Electron IPC and over WebSocket. */
export type Api = ApiMethods &
  ApiEvents & {
    /** A URL the renderer can put in `<img src>` for a local file under an opened root. */
    mediaUrl(path: string, options?: { thumb?: number }): string;
    readonly transport: 'ipc' | 'websocket';
  };

/** `system.log` → `onSystemLog`. */
export function eventListenerName(name: EventName): string {
  const camel = name.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase());
  return `on${camel.charAt(0).toUpperCase()}${camel.slice(1)}`;
}
