/**
 * The browser side of serve mode: the same `Api` as the preload builds, over
 * the workbench's WebSocket. The token comes from the page URL.
 */
import type { EventName, MethodName } from '../../../shared/contract';
import type { Envelope } from '../../../shared/errors';
import type { Transport } from '../../../shared/apiClient';

type ServerFrame =
  | { kind: 'answer'; id: number; envelope: Envelope<unknown> }
  | { kind: 'event'; event: EventName; payload: unknown };

export function webSocketTransport(location: Location): Transport {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`;
  const pending = new Map<number, (envelope: Envelope<unknown>) => void>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let socket: Promise<WebSocket> | null = null;

  function connect(): Promise<WebSocket> {
    socket ??= new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      ws.onopen = () => resolve(ws);
      ws.onerror = () =>
        reject(new Error('Cannot reach the workbench server. Is `captioner serve` running, and is the token in the URL right?'));
      ws.onmessage = (message) => {
        const frame = JSON.parse(String(message.data)) as ServerFrame;
        if (frame.kind === 'answer') {
          pending.get(frame.id)?.(frame.envelope);
          pending.delete(frame.id);
        } else {
          for (const listener of listeners.get(frame.event) ?? []) listener(frame.payload);
        }
      };
      ws.onclose = () => {
        socket = null;
        for (const settle of pending.values()) {
          settle({ ok: false, error: { code: 'engine_unavailable', message: 'The connection to the workbench server closed.' } });
        }
        pending.clear();
        // Reconnect so events keep flowing after a server restart.
        setTimeout(() => void connect().catch(() => undefined), 2000);
      };
    });
    return socket;
  }
  void connect().catch(() => undefined);

  return {
    kind: 'websocket',
    async invoke(method: MethodName, request: unknown) {
      let ws: WebSocket;
      try {
        ws = await connect();
      } catch (error) {
        socket = null;
        return { ok: false, error: { code: 'engine_unavailable', message: (error as Error).message } };
      }
      const id = nextId++;
      return new Promise<Envelope<unknown>>((resolve) => {
        pending.set(id, resolve);
        ws.send(JSON.stringify({ kind: 'call', id, method, request }));
      });
    },
    subscribe(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    mediaUrl(path, options) {
      const params = new URLSearchParams({ path, token });
      if (options?.thumb) params.set('thumb', String(options.thumb));
      return `/media?${params.toString()}`;
    },
  };
}
