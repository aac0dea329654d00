/** Frames of the serve-mode WebSocket: calls with ids, answers, and pushed events. */
import type { Envelope } from '../../shared/errors';

export type ClientFrame = { kind: 'call'; id: number; method: string; request: unknown };

export type ServerFrame =
  | { kind: 'answer'; id: number; envelope: Envelope<unknown> }
  | { kind: 'event'; event: string; payload: unknown };

export function parseClientFrame(data: string): ClientFrame | null {
  try {
    const frame = JSON.parse(data) as Partial<ClientFrame>;
    if (frame.kind === 'call' && typeof frame.id === 'number' && typeof frame.method === 'string') {
      return { kind: 'call', id: frame.id, method: frame.method, request: frame.request };
    }
  } catch {
    // Not JSON: rejected below like any other malformed frame.
  }
  return null;
}
