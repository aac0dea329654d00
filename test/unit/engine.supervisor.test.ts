import { describe, expect, it } from 'vitest';
import { EngineSupervisor } from '../../src/main/engine/supervisor';
import type { EngineStatus } from '../../src/shared/types';
import { fakeSpawner } from '../helpers/fakeEngine';

describe('EngineSupervisor (fake engine)', () => {
  it('routes results and progress by request id', async () => {
    const spawner = fakeSpawner((call, reply) => {
      const params = call.params as { steps: number };
      for (let i = 1; i <= params.steps; i++) reply({ type: 'progress', id: call.id, progress: { stage: 's', done: i, total: params.steps } });
      reply({ type: 'result', id: call.id, value: { steps: params.steps } });
    });
    const supervisor = new EngineSupervisor(spawner);
    const seen: number[] = [];
    const result = await supervisor.call('diagnostics.wait', { ms: 0, steps: 3 }, { onProgress: (p) => seen.push(p.done) });
    expect(result).toEqual({ steps: 3 });
    expect(seen).toEqual([1, 2, 3]);
  });

  it("delivers each call's typed events to that call alone, in order, apart from its progress", async () => {
    const started = { kind: 'started' } as const;
    const spawner = fakeSpawner((call, reply) => {
      if (call.method !== 'training.run') return;
      reply({ type: 'event', id: call.id, event: { ...started, n: 1 } });
      reply({ type: 'progress', id: call.id, progress: { stage: 'epoch 1', done: 1, total: 2 } });
      reply({ type: 'event', id: call.id, event: { ...started, n: 2 } });
      reply({ type: 'event', id: call.id + 100, event: { ...started, n: 99 } });
      reply({ type: 'result', id: call.id, value: { outcome: 'completed' } });
    });
    const supervisor = new EngineSupervisor(spawner);
    const events: unknown[] = [];
    const progress: string[] = [];
    const params = { config: {}, runDir: '/tmp/r', dataDir: '/tmp/d', resumeFrom: null } as unknown as Parameters<typeof supervisor.call<'training.run'>>[1];
    await supervisor.call('training.run', params, { onEvent: (event) => events.push(event), onProgress: (p) => progress.push(p.stage) });
    expect(events).toEqual([{ kind: 'started', n: 1 }, { kind: 'started', n: 2 }]);
    expect(progress).toEqual(['epoch 1']);
  });

  it('sends cancel for an aborted call', async () => {
    const spawner = fakeSpawner(() => undefined);
    const supervisor = new EngineSupervisor(spawner);
    const controller = new AbortController();
    const pending = supervisor.call('diagnostics.wait', { ms: 1000, steps: 1 }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const channel = spawner.spawned[0]!;
    expect(channel.sent.map((m) => m.type)).toEqual(['call', 'cancel']);
    channel.crash('test over');
    await expect(pending).rejects.toMatchObject({ code: 'engine_crashed' });
  });

  it('fails calls in flight when the engine dies, then starts a new engine', async () => {
    const spawner = fakeSpawner((call, reply) => {
      if (call.method === 'backend.memory') reply({ type: 'result', id: call.id, value: { numTensors: 0, numBytes: 0 } });
    });
    const statuses: EngineStatus['state'][] = [];
    const supervisor = new EngineSupervisor(spawner, { onStatus: (s) => statuses.push(s.state) });
    const hanging = supervisor.call('diagnostics.wait', { ms: 10_000, steps: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    spawner.spawned[0]!.crash('killed by SIGSEGV');
    await expect(hanging).rejects.toMatchObject({ code: 'engine_crashed' });
    await expect(hanging).rejects.toThrow(/SIGSEGV.*diagnostics\.wait/);
    await expect(supervisor.call('backend.memory', {})).resolves.toEqual({ numTensors: 0, numBytes: 0 });
    expect(spawner.spawned).toHaveLength(2);
    expect(supervisor.status()).toMatchObject({ state: 'ready', restarts: 1, lastExit: 'killed by SIGSEGV', pid: 1001 });
    expect(statuses).toEqual(['starting', 'ready', 'crashed', 'restarting', 'ready']);
  });

  it('stops restarting after repeated rapid crashes', async () => {
    const spawner = fakeSpawner(() => undefined);
    const supervisor = new EngineSupervisor(spawner);
    for (let i = 0; i < 6; i++) {
      await supervisor.start();
      spawner.spawned.at(-1)!.crash(`crash ${i}`);
    }
    expect(spawner.spawned).toHaveLength(6);
    expect(supervisor.status().state).toBe('crashed');
  });
});
