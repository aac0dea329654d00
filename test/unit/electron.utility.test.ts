import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { utilitySpawner, type UtilityProcessLike } from '../../src/main/electron/utilityChannel';
import { EngineSupervisor } from '../../src/main/engine/supervisor';

/** Behaves like Electron's UtilityProcess: postMessage in, 'message' and 'exit' out. */
class FakeUtilityProcess extends EventEmitter implements UtilityProcessLike {
  readonly posted: unknown[] = [];
  constructor(readonly pid: number) {
    super();
    queueMicrotask(() => this.emit('message', { type: 'ready', pid }));
  }
  postMessage(message: unknown): void {
    this.posted.push(message);
    const call = message as { type: string; id: number };
    if (call.type === 'call') queueMicrotask(() => this.emit('message', { type: 'result', id: call.id, value: 'pong' }));
  }
  kill(): boolean {
    this.emit('exit', 9);
    return true;
  }
}

describe('utilityProcess engine channel', () => {
  it('carries calls and answers through postMessage, and reports exits', async () => {
    const processes: FakeUtilityProcess[] = [];
    const supervisor = new EngineSupervisor(
      utilitySpawner(() => {
        const child = new FakeUtilityProcess(500 + processes.length);
        processes.push(child);
        return child;
      }),
    );
    await expect(supervisor.call('backend.memory', {})).resolves.toBe('pong');
    expect(processes[0]!.posted).toEqual([{ type: 'call', id: 1, method: 'backend.memory', params: {} }]);
    processes[0]!.emit('exit', 139);
    await supervisor.start();
    expect(supervisor.status()).toMatchObject({ state: 'ready', pid: 501, lastExit: 'exit code 139', restarts: 1 });
    await supervisor.stop();
    expect(supervisor.status().state).toBe('stopped');
  });
});
