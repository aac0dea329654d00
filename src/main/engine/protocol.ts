/**
 * Messages between the main process and a worker process (the TensorFlow.js
 * engine, or the plain-Node dataset process). Every call has an
 * id; progress, the call's typed events and the final answer carry it back;
 * `cancel` aborts the call's AbortSignal inside the engine. Plain
 * JSON-serializable data only.
 *
 * Each engine method declares, in its handler's signature, its params, its
 * result and the events it streams: `(params: P, ctx: EngineContext<E>) =>
 * Promise<R>`. `EngineParams`, `EngineResult` and `EngineEvents` derive from
 * those signatures, so the supervisor's caller and the handler are checked
 * against the same types at compile time; nothing arrives as `unknown` to be
 * cast by the receiver.
 */
import type { ApiErrorData } from '../../shared/errors';
import type { LogLevel } from '../../shared/types';
import type { EngineHandlers } from './handlers/index';

/** The methods one process answers: name → handler. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler's own params and events type it; this is only the shape
export type HandlerMap = Record<string, (params: any, context: EngineContext<any>) => Promise<unknown>>;

export type MethodOf<H extends HandlerMap> = keyof H & string;
export type ParamsOf<H extends HandlerMap, M extends MethodOf<H>> = Parameters<H[M]>[0];
export type ResultOf<H extends HandlerMap, M extends MethodOf<H>> = Awaited<ReturnType<H[M]>>;
/** What a method streams while it runs (`never` for methods that stream nothing but progress). */
export type EventsOf<H extends HandlerMap, M extends MethodOf<H>> = Parameters<H[M]>[1] extends EngineContext<infer E> ? E : never;

export type EngineMethod = MethodOf<EngineHandlers>;
export type EngineParams<M extends EngineMethod> = ParamsOf<EngineHandlers, M>;
export type EngineResult<M extends EngineMethod> = ResultOf<EngineHandlers, M>;
export type EngineEvents<M extends EngineMethod> = EventsOf<EngineHandlers, M>;

export interface EngineProgress {
  stage: string;
  done: number;
  total: number | null;
  etaSeconds?: number | null;
  message?: string;
}

export type ToEngine =
  | { type: 'call'; id: number; method: string; params: unknown }
  | { type: 'cancel'; id: number };

export type FromEngine =
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ApiErrorData }
  | { type: 'progress'; id: number; progress: EngineProgress }
  /** One of the call's declared events; typed per method by `EngineEvents`. */
  | { type: 'event'; id: number; event: unknown }
  | { type: 'log'; level: LogLevel; message: string };

/** What an engine handler gets besides its params; `E` is what the method streams. */
export interface EngineContext<E = never> {
  signal: AbortSignal;
  progress(progress: EngineProgress): void;
  /** Streams one of this method's events to the caller, in order. */
  emit(event: E): void;
  log(level: LogLevel, message: string): void;
}

export function isFromEngine(value: unknown): value is FromEngine {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
