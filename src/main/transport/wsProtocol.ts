/**
 * Frames of the serve-mode WebSocket: calls with ids, answers, and pushed
 * events. A call's id is echoed in its answer, so it must survive a JSON
 * round trip unchanged: a safe integer or a short string. Anything else
 * (`1e400` parses to Infinity and would come back as null) is refused.
 */
import type { Envelope } from '../../shared/errors';

export type RequestId = number | string;

export type ClientFrame = { kind: 'call'; id: RequestId; method: string; request: unknown };

export type ServerFrame =
  | { kind: 'answer'; id: RequestId; envelope: Envelope<unknown> }
  | { kind: 'event'; event: string; payload: unknown };

/** Longest string id and method name a call may carry. */
export const MAX_ID_LENGTH = 64;
const MAX_METHOD_LENGTH = 128;

export function isRequestId(id: unknown): id is RequestId {
  return (typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH);
}

export type ParsedFrame = { ok: true; frame: ClientFrame } | { ok: false; reason: string };

/** Reads a text frame; the reason, when it is refused, goes into the close frame (at most 123 bytes). */
export function parseClientFrame(data: string): ParsedFrame {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, reason: 'Malformed frame: not JSON' };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'Malformed frame: not an object' };
  const frame = value as Partial<Record<keyof ClientFrame, unknown>>;
  if (frame.kind !== 'call') return { ok: false, reason: 'Malformed frame: kind must be "call"' };
  if (!isRequestId(frame.id)) return { ok: false, reason: `Invalid request id: a safe integer or a string of 1-${MAX_ID_LENGTH} characters` };
  if (typeof frame.method !== 'string' || frame.method.length > MAX_METHOD_LENGTH) return { ok: false, reason: 'Malformed frame: method must be a short string' };
  return { ok: true, frame: { kind: 'call', id: frame.id, method: frame.method, request: frame.request } };
}
