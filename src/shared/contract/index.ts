/**
 * The workbench API: every method (request schema and response type) and every
 * event, declared once. The main process validates requests against these
 * schemas; the preload, the WebSocket client and the CLI derive their typed
 * surfaces from the same declarations. No Node and no DOM in this file.
 *
 * Each domain declares its methods (and its events) in its own file beside
 * this one; this index joins them, so every name is declared exactly once.
 *
 * Naming: methods are `namespace.verb`; events are `namespace.noun` and appear
 * in `window.api` as `onNamespaceNoun(callback)`.
 */
import { event, type EventSpec, type MethodSpec } from './spec';
import { systemMethods } from './system';
import { taskEvents, taskMethods } from './tasks';
import { datasetMethods } from './datasets';
import { runMethods } from './runs';
import { trainingMethods } from './training';
import { inferenceMethods } from './inference';
import { compareMethods } from './compare';
import { playgroundMethods } from './playground';
import { galleryMethods } from './gallery';
import type { z } from 'zod';
import type { TrainingEpochEvent, TrainingFinished, TrainingStartedEvent, TrainingStepEvent } from '../trainingTypes';

import type { EngineStatus, LogEntry } from '../types';
import { type MetricBatch, type RunRecord } from '../storeTypes';

export type { EventSpec, MethodSpec } from './spec';

// ─── the whole API ───────────────────────────────────────────────────────────

export const methods = {
  ...systemMethods,
  ...taskMethods,
  ...datasetMethods,
  ...runMethods,
  ...trainingMethods,
  ...inferenceMethods,
  ...compareMethods,
  ...playgroundMethods,
  ...galleryMethods,
} as const;

export const events = {
  ...taskEvents,
  'system.log': event<LogEntry>('A log line from the main process or the engine.'),
  'engine.status': event<EngineStatus>('The engine started, crashed or restarted.'),
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
