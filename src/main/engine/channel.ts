/**
 * A running engine process as the supervisor sees it. Two implementations:
 * `child_process.fork` (headless, tests, CLI) and Electron's `utilityProcess`
 * (the desktop app); the supervisor does not know which.
 */
import type { FromEngine, ToEngine } from './protocol';

export interface EngineChannel {
  readonly pid: number | null;
  send(message: ToEngine): void;
  onMessage(listener: (message: FromEngine) => void): void;
  /** Called once when the process is gone, with a human-readable reason. */
  onExit(listener: (reason: string) => void): void;
  kill(): void;
}

export type EngineSpawner = () => EngineChannel;
