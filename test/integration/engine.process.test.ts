/**
 * The real engine process (child_process.fork of the TypeScript entry), on the
 * pure-JS backend so it starts fast: progress, cancellation, and a kill in the
 * middle of a request.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { forkSpawner } from '../../src/main/engine/forkChannel';
import { EngineSupervisor } from '../../src/main/engine/supervisor';

const supervisor = new EngineSupervisor(forkSpawner({ ...process.env, CAPTIONER_BACKEND: 'cpu' }));

afterAll(async () => {
  await supervisor.stop();
});

describe('engine process', () => {
  it('answers with the backend it initialized', async () => {
    const info = await supervisor.call('backend.info', {});
    expect(info.name).toBe('cpu');
    expect(info.reason).toMatch(/CAPTIONER_BACKEND=cpu/);
    expect(info.tfjsVersion).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('streams progress and honours cancellation', async () => {
    const progress: number[] = [];
    const controller = new AbortController();
    const call = supervisor.call(
      'diagnostics.wait',
      { ms: 5000, steps: 50 },
      {
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p.done);
          if (p.done === 3) controller.abort();
        },
      },
    );
    await expect(call).rejects.toMatchObject({ code: 'cancelled' });
    expect(progress.slice(0, 3)).toEqual([1, 2, 3]);
    expect(progress.length).toBeLessThan(10);
  });

  it('fails the request in flight when the engine is killed, and restarts', async () => {
    const before = supervisor.status();
    const call = supervisor.call('diagnostics.wait', { ms: 20_000, steps: 100 }, {
      onProgress: (p) => {
        if (p.done === 2 && before.pid) process.kill(before.pid, 'SIGKILL');
      },
    });
    await expect(call).rejects.toMatchObject({ code: 'engine_crashed' });
    await expect(call).rejects.toThrow(/SIGKILL/);
    const info = await supervisor.call('backend.info', {});
    expect(info.name).toBe('cpu');
    const after = supervisor.status();
    expect(after.state).toBe('ready');
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
  });

  it('survives an engine that exits on its own', async () => {
    await expect(supervisor.call('diagnostics.crash', {})).rejects.toMatchObject({ code: 'engine_crashed' });
    await expect(supervisor.call('backend.memory', {})).resolves.toMatchObject({ numTensors: expect.any(Number) });
  });
});
