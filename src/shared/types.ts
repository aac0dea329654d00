/**
 * Plain data types that cross process boundaries (responses and event
 * payloads). Only serializable values: no classes, no tensors.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogEntry {
  time: string;
  level: LogLevel;
  source: 'main' | 'engine' | 'datasets';
  message: string;
}

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  /** The tfjs backend in use. */
  name: BackendName;
  device: 'gpu' | 'cpu';
  /** TensorFlow C library version, for the native backend. */
  tensorflowVersion: string | null;
  /** Where the native library was loaded from. */
  libraryPath: string | null;
  /** CUDA libraries found next to the native build (GPU builds only). */
  cudaLibraries: string[];
  /** True when no faster backend is possible on this machine. */
  isFastest: boolean;
  /** Why this backend was chosen, and why faster ones were not. */
  reason: string;
  /** The exact command that enables a faster backend, if one is possible. */
  enableCommand: string | null;
}

export type EngineState = 'starting' | 'ready' | 'crashed' | 'restarting' | 'stopped';

export interface EngineStatus {
  state: EngineState;
  pid: number | null;
  restarts: number;
  /** Why the engine last stopped, when it did. */
  lastExit: string | null;
}

export interface SystemInfo {
  appVersion: string;
  platform: string;
  arch: string;
  cpu: { model: string; cores: number };
  memory: { totalBytes: number; freeBytes: number };
  gpu: { name: string; memoryBytes: number | null } | null;
  backend: BackendInfo;
  engine: EngineStatus;
  versions: Record<string, string>;
  dataDir: string;
  transport: 'ipc' | 'websocket' | 'cli';
}

