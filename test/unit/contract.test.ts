import { describe, expect, it } from 'vitest';
import { dispatch, type Handlers } from '../../src/main/api/handlers';
import { createHandlers } from '../../src/main/api';
import { buildApi, type Transport } from '../../src/shared/apiClient';
import { eventListenerName, eventNames, methodNames, methods } from '../../src/shared/contract';
import { ApiError } from '../../src/shared/errors';

const echoHandlers = new Proxy({} as Handlers, {
  get: (_target, method: string) => async (request: unknown) => ({ method, request }),
});

describe('request validation', () => {
  it('refuses an unknown method with unknown_method', async () => {
    const envelope = await dispatch(echoHandlers, 'system.format', {}, { transport: 'websocket' });
    expect(envelope).toEqual({ ok: false, error: { code: 'unknown_method', message: 'Unknown method "system.format".' } });
  });

  it('names the offending field of an invalid request', async () => {
    const envelope = await dispatch(echoHandlers, 'system.logs', { limit: 0 }, { transport: 'ipc' });
    expect(envelope.ok).toBe(false);
    if (envelope.ok) return;
    expect(envelope.error.code).toBe('invalid_request');
    expect(envelope.error.issues?.[0]?.path).toBe('limit');
    expect(envelope.error.message).toContain('limit');
  });

  it('refuses fields the contract does not declare', async () => {
    const envelope = await dispatch(echoHandlers, 'system.info', { extra: true }, { transport: 'ipc' });
    expect(envelope.ok).toBe(false);
  });

  it('applies schema defaults before the handler runs', async () => {
    const envelope = await dispatch(echoHandlers, 'system.logs', {}, { transport: 'ipc' });
    expect(envelope).toEqual({ ok: true, value: { method: 'system.logs', request: { limit: 500 } } });
  });

  it('turns a handler error into an error envelope with its code', async () => {
    const failing = new Proxy({} as Handlers, {
      get: () => async () => {
        throw new ApiError('not_found', 'No such run.');
      },
    });
    const envelope = await dispatch(failing, 'tasks.stop', { taskId: 3 }, { transport: 'ipc' });
    expect(envelope).toEqual({ ok: false, error: { code: 'not_found', message: 'No such run.' } });
  });
});

describe('the contract', () => {
  it('has a handler for every method', () => {
    const handlers = createHandlers({} as never);
    expect(Object.keys(handlers).sort()).toEqual([...methodNames].sort());
    for (const name of methodNames) expect(typeof handlers[name]).toBe('function');
  });

  it('gives every method a summary and a schema', () => {
    for (const name of methodNames) {
      expect(methods[name].summary.length).toBeGreaterThan(5);
      expect(typeof methods[name].request.safeParse).toBe('function');
    }
  });

  it('names every method namespace.verb and every event subject.happening with a singular subject', () => {
    for (const name of methodNames) expect(name).toMatch(/^[a-z]+\.[a-z][A-Za-z]*$/);
    for (const name of eventNames) {
      expect(name).toMatch(/^[a-z]+\.[a-z][A-Za-z]*$/);
      const subject = name.split('.')[0]!;
      expect(subject.endsWith('s'), `${name}: an event's subject is one thing`).toBe(false);
    }
  });

  it('names event listeners onNamespaceNoun', () => {
    expect(eventListenerName('task.progress')).toBe('onTaskProgress');
    expect(eventListenerName('system.log')).toBe('onSystemLog');
  });
});

describe('buildApi', () => {
  function recordingTransport(): Transport & { calls: Array<[string, unknown]> } {
    const calls: Array<[string, unknown]> = [];
    return {
      kind: 'websocket',
      calls,
      invoke: async (method, request) => {
        calls.push([method, request]);
        if (method === 'tasks.stop') return { ok: false, error: { code: 'not_found', message: 'gone', issues: [{ path: 'taskId', message: 'unknown' }] } };
        return { ok: true, value: method };
      },
      subscribe: () => () => undefined,
      mediaUrl: (path) => `/media?path=${path}`,
    };
  }

  it('exposes exactly one function per method and one onX per event', () => {
    const api = buildApi(recordingTransport()) as unknown as Record<string, Record<string, unknown>>;
    for (const name of methodNames) {
      const [ns, verb] = name.split('.') as [string, string];
      expect(typeof api[ns]?.[verb]).toBe('function');
    }
    for (const name of eventNames) expect(typeof (api as Record<string, unknown>)[eventListenerName(name)]).toBe('function');
  });

  it('routes calls by method name and rethrows error envelopes as ApiError', async () => {
    const transport = recordingTransport();
    const api = buildApi(transport);
    await expect(api.system.info({})).resolves.toBe('system.info');
    const failure = await api.tasks.stop({ taskId: 1 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).code).toBe('not_found');
    expect((failure as ApiError).issues[0]?.path).toBe('taskId');
    expect(transport.calls).toEqual([
      ['system.info', {}],
      ['tasks.stop', { taskId: 1 }],
    ]);
  });
});
