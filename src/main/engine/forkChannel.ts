/** A worker process as a `child_process.fork` child: headless mode, the CLI and tests. */
import { fork, type ChildProcess } from 'node:child_process';
import { engineEntry, type WorkerProcess } from '../core/paths';
import type { EngineChannel, EngineSpawner } from './channel';
import { isFromEngine, type FromEngine } from './protocol';

export function forkSpawner(env: NodeJS.ProcessEnv = process.env, which: WorkerProcess = 'engine'): EngineSpawner {
  return () => {
    const { entry, execArgv } = engineEntry(which);
    const child = fork(entry, [], {
      execArgv,
      env: { ...env, CAPTIONER_ENGINE: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    return new ForkChannel(child);
  };
}

class ForkChannel implements EngineChannel {
  private exited = false;
  private readonly exitListeners: Array<(reason: string) => void> = [];

  constructor(private readonly child: ChildProcess) {
    child.on('exit', (code, signal) => this.finish(signal ? `killed by ${signal}` : `exit code ${code}`));
    child.on('error', (error) => this.finish(`failed to start: ${error.message}`));
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  send(message: Parameters<EngineChannel['send']>[0]): void {
    if (!this.exited && this.child.connected) this.child.send(message);
  }

  onMessage(listener: (message: FromEngine) => void): void {
    this.child.on('message', (message) => {
      if (isFromEngine(message)) listener(message);
    });
  }

  onExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private finish(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    for (const listener of this.exitListeners) listener(reason);
  }
}
