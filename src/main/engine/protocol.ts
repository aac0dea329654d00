/**
 * Messages between the main process and the engine process. Every call has an
 * id; progress and the final answer carry it back; `cancel` aborts the
 * call's AbortSignal inside the engine. Plain JSON-serializable data only.
 */
import type { ApiErrorData } from '../../shared/errors';
import type { LogLevel } from '../../shared/types';
import type { EngineHandlers } from './handlers/index';

export type EngineMethod = keyof EngineHandlers & string;
export type EngineParams<M extends EngineMethod> = Parameters<EngineHandlers[M]>[0];
export type EngineResult<M extends EngineMethod> = Awaited<ReturnType<EngineHandlers[M]>>;

export interface EngineProgress {
  stage: string;
  done: number;
  total: number | null;
  etaSeconds?: number | null;
  message?: string;
  /** Structured payload for the caller, e.g. one epoch's metrics. */
  data?: unknown;
}

export type ToEngine =
  | { type: 'call'; id: number; method: string; params: unknown }
  | { type: 'cancel'; id: number };

export type FromEngine =
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: ApiErrorData }
  | { type: 'progress'; id: number; progress: EngineProgress }
  | { type: 'log'; level: LogLevel; message: string };

/** What an engine handler gets besides its params. */
export interface EngineContext {
  signal: AbortSignal;
  progress(progress: EngineProgress): void;
  log(level: LogLevel, message: string): void;
}

export function isFromEngine(value: unknown): value is FromEngine {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
