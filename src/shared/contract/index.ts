/**
 * The workbench API: every method (request schema and response type) and every
 * event, declared once. The main process validates requests against these
 * schemas; the preload, the WebSocket client and the CLI derive their typed
 * surfaces from the same declarations. No Node and no DOM in this file.
 *
 * Each domain declares its methods (and its events) in its own file beside
 * this one; this index joins them, so every name is declared exactly once.
 *
 * Naming (test/unit/contract.test.ts holds every name to it):
 * - Methods are `<namespace>.<verb>`: the namespace names the domain as the
 *   UI groups it (`runs`, `tasks`, `datasets`, `training`, `eval`), the verb
 *   what the call does (`list`, `get`, `start`, `stop`, `resume`).
 * - Events are `<subject>.<happening>`: the subject is one thing, singular
 *   (`run`, `task`, `training`, `engine`, `system`); the happening is a past
 *   participle for a change (`updated`, `deleted`, `started`, `finished`) or
 *   a noun for a stream (`progress`, `metrics`, `step`, `epoch`, `log`).
 *   They appear in `window.api` as `onSubjectHappening(callback)`.
 * - Metric keys follow src/shared/metricKeys.ts from RunConfig to the store,
 *   the events and the UI.
 */
import type { DesktopApi } from '../desktop';
import type { EventSpec, MethodSpec } from './spec';
import { systemEvents, systemMethods } from './system';
import { taskEvents, taskMethods } from './tasks';
import { datasetMethods } from './datasets';
import { runEvents, runMethods } from './runs';
import { trainingEvents, trainingMethods } from './training';
import { inferenceMethods } from './inference';
import { tuningMethods } from './tuning';
import { batchEvents, batchMethods } from './batch';
import { compareMethods } from './compare';
import { playgroundMethods } from './playground';
import { galleryMethods } from './gallery';
import { storeMethods } from './store';
import type { z } from 'zod';

export type { EventSpec, MethodSpec } from './spec';

// ─── the whole API ───────────────────────────────────────────────────────────

export const methods = {
  ...systemMethods,
  ...taskMethods,
  ...datasetMethods,
  ...runMethods,
  ...trainingMethods,
  ...inferenceMethods,
  ...tuningMethods,
  ...batchMethods,
  ...compareMethods,
  ...playgroundMethods,
  ...galleryMethods,
  ...storeMethods,
} as const;

export const events = {
  ...systemEvents,
  ...taskEvents,
  ...runEvents,
  ...trainingEvents,
  ...batchEvents,
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
    /** Native dialogs: only in the desktop app (the preload adds it); absent in a browser. */
    readonly desktop?: DesktopApi;
  };

/** `system.log` → `onSystemLog`. */
export function eventListenerName(name: EventName): string {
  const camel = name.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase());
  return `on${camel.charAt(0).toUpperCase()}${camel.slice(1)}`;
}
