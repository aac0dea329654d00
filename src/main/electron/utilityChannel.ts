/** The engine as an Electron `utilityProcess` (the desktop app). */
import type { EngineChannel, EngineSpawner } from '../engine/channel';
import { isFromEngine, type FromEngine, type ToEngine } from '../engine/protocol';

/** The subset of Electron's UtilityProcess the channel uses. */
export interface UtilityProcessLike {
  readonly pid: number | undefined;
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: unknown) => void): void;
  on(event: 'exit', listener: (code: number) => void): void;
  kill(): boolean;
}

export function utilitySpawner(fork: () => UtilityProcessLike): EngineSpawner {
  return () => new UtilityChannel(fork());
}

class UtilityChannel implements EngineChannel {
  private exited = false;
  private readonly exitListeners: Array<(reason: string) => void> = [];

  constructor(private readonly child: UtilityProcessLike) {
    child.on('exit', (code: number) => {
      if (this.exited) return;
      this.exited = true;
      for (const listener of this.exitListeners) listener(`exit code ${code}`);
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  send(message: ToEngine): void {
    if (!this.exited) this.child.postMessage(message);
  }

  onMessage(listener: (message: FromEngine) => void): void {
    this.child.on('message', (message: unknown) => {
      if (isFromEngine(message)) listener(message);
    });
  }

  onExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }

  kill(): void {
    if (!this.exited) this.child.kill();
  }
}
