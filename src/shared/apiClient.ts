/**
 * Builds the typed `Api` object from two transport primitives. Used by the
 * preload (IPC) and by the browser client (WebSocket), so both expose exactly
 * the methods and events the contract declares, and nothing else.
 */
import {
  eventListenerName,
  eventNames,
  methodNames,
  type Api,
  type EventName,
  type MethodName,
} from './contract';
import { ApiError, type Envelope } from './errors';

export interface Transport {
  kind: Api['transport'];
  invoke(method: MethodName, request: unknown): Promise<Envelope<unknown>>;
  subscribe(event: EventName, listener: (payload: unknown) => void): () => void;
  mediaUrl(path: string, options?: { thumb?: number }): string;
}

export function buildApi(transport: Transport): Api {
  const api: Record<string, unknown> = {
    transport: transport.kind,
    mediaUrl: (path: string, options?: { thumb?: number }) => transport.mediaUrl(path, options),
  };
  for (const name of methodNames) {
    const [namespace, verb] = name.split('.') as [string, string];
    const group = (api[namespace] ??= {}) as Record<string, unknown>;
    group[verb] = async (request: unknown) => {
      const envelope = await transport.invoke(name, request ?? {});
      if (envelope.ok) return envelope.value;
      throw ApiError.fromData(envelope.error);
    };
  }
  for (const name of eventNames) {
    api[eventListenerName(name)] = (listener: (payload: unknown) => void) =>
      transport.subscribe(name, listener);
  }
  return api as unknown as Api;
}
