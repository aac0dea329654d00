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
import type { ScoreReport } from './inferenceTypes';
import type {
  EngineStatus,
  JobFinished,
  JobProgress,
  JobSummary,
  LogEntry,
  SystemInfo,
} from './types';
import type { MetricBatch, RunRecord } from './storeTypes';

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

const datasetMethods = {} as const;

// ─── store: runs, metrics, artifacts ─────────────────────────────────────────

const runMethods = {} as const;

// ─── training ────────────────────────────────────────────────────────────────

const trainingMethods = {} as const;

// ─── inference, evaluation, model packages ───────────────────────────────────

const inferenceFilePath = z.string().min(1).max(4096);

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
