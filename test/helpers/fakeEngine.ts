/** An in-memory engine channel for tests of code that talks to the supervisor. */
import type { EngineChannel, EngineSpawner } from '../../src/main/engine/channel';
import type { FromEngine, ToEngine } from '../../src/main/engine/protocol';

export type FakeEngineBehaviour = (message: Extract<ToEngine, { type: 'call' }>, reply: (message: FromEngine) => void) => void;

/** Spawns channels that answer calls with `behaviour`; `spawned` lists them for inspection. */
export function fakeSpawner(behaviour: FakeEngineBehaviour): EngineSpawner & { spawned: FakeChannel[] } {
  const spawned: FakeChannel[] = [];
  const spawn: EngineSpawner = () => {
    const channel = new FakeChannel(behaviour, 1000 + spawned.length);
    spawned.push(channel);
    return channel;
  };
  return Object.assign(spawn, { spawned });
}

export class FakeChannel implements EngineChannel {
  private messageListeners: Array<(message: FromEngine) => void> = [];
  private exitListeners: Array<(reason: string) => void> = [];
  private dead = false;
  readonly sent: ToEngine[] = [];

  constructor(
    private readonly behaviour: FakeEngineBehaviour,
    readonly pid: number,
  ) {
    queueMicrotask(() => this.emit({ type: 'ready', pid }));
  }

  send(message: ToEngine): void {
    this.sent.push(message);
    if (message.type === 'call') this.behaviour(message, (reply) => this.emit(reply));
  }

  onMessage(listener: (message: FromEngine) => void): void {
    this.messageListeners.push(listener);
  }

  onExit(listener: (reason: string) => void): void {
    this.exitListeners.push(listener);
  }

  kill(): void {
    this.crash('killed by SIGKILL');
  }

  crash(reason: string): void {
    if (this.dead) return;
    this.dead = true;
    for (const listener of this.exitListeners) listener(reason);
  }

  private emit(message: FromEngine): void {
    if (!this.dead) for (const listener of this.messageListeners) listener(message);
  }
}
