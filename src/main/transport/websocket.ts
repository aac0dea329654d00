/**
 * The API over a WebSocket (serve mode). A connection must present the
 * session token and, when it comes from a browser, an Origin that is the
 * server itself; anything else is refused before the upgrade.
 *
 * A hostile or broken client only ever loses its own connection: every
 * socket error (a frame over the payload limit, invalid UTF-8, a protocol
 * violation, a reset) and every malformed call closes that connection with
 * a reason and is logged; the server, its engine and any training go on.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Handlers } from '../api/handlers';
import { dispatch } from '../api/handlers';
import type { EventBus } from '../core/eventBus';
import type { Envelope } from '../../shared/errors';
import { parseClientFrame, type ServerFrame } from './wsProtocol';

export interface WebSocketApiOptions {
  handlers: Handlers;
  bus: EventBus;
  token: string;
  /** Origins a browser may connect from, e.g. `http://127.0.0.1:5170`. */
  allowedOrigins: () => string[];
  log?(level: 'info' | 'warn', message: string): void;
}

/** Largest frame a client may send; calls are small JSON documents. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;
/** Calls one connection may have unanswered at once. */
export const MAX_CALLS_IN_FLIGHT = 256;

/** Close codes (RFC 6455): unsupported data, policy violation. */
const CLOSE_UNSUPPORTED = 1003;
const CLOSE_POLICY = 1008;

export function tokensEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Why an upgrade request is refused, or null when it may connect. */
export function refusalReason(request: IncomingMessage, options: Pick<WebSocketApiOptions, 'token' | 'allowedOrigins'>): string | null {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== '/api') return 'unknown path';
  const token = url.searchParams.get('token') ?? '';
  if (!tokensEqual(token, options.token)) return 'missing or wrong token';
  const origin = request.headers.origin;
  if (origin !== undefined && !options.allowedOrigins().includes(origin)) return `origin ${origin} not allowed`;
  return null;
}

export class WebSocketApi {
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: MAX_PAYLOAD_BYTES });
  private nextConnection = 1;
  private readonly detach: () => void;

  constructor(private readonly options: WebSocketApiOptions) {
    this.server.on('connection', (socket, request: IncomingMessage) => this.serve(socket, request));
    this.server.on('error', (error) => this.log('warn', `WebSocket server: ${error.message}`));
    this.detach = options.bus.attach((event, payload) => {
      const frame = JSON.stringify({ kind: 'event', event, payload } satisfies ServerFrame);
      for (const client of this.server.clients) if (client.readyState === client.OPEN) client.send(frame, (error) => error && client.terminate());
    });
  }

  /** Handles an HTTP upgrade; refuses with 401/403 and a reason the client can read. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Until ws takes the socket over, a reset must not become an unhandled error.
    socket.on('error', (error) => this.log('warn', `WebSocket upgrade from ${request.socket.remoteAddress ?? 'unknown'}: ${error.message}`));
    const reason = refusalReason(request, this.options);
    if (reason) {
      const status = reason.startsWith('origin') ? '403 Forbidden' : '401 Unauthorized';
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nRefused: ${reason}.\n`);
      return;
    }
    this.server.handleUpgrade(request, socket, head, (ws) => this.server.emit('connection', ws, request));
  }

  close(): void {
    this.detach();
    for (const client of this.server.clients) client.terminate();
    this.server.close();
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.options.log?.(level, message);
  }

  private serve(socket: WebSocket, request: IncomingMessage): void {
    const who = `WebSocket connection ${this.nextConnection++} (${request.socket.remoteAddress ?? 'unknown'})`;
    let inFlight = 0;
    const refuse = (code: number, reason: string) => {
      this.log('warn', `${who} closed: ${reason}.`);
      if (socket.readyState === socket.OPEN) socket.close(code, reason.slice(0, 120));
      else socket.terminate();
    };
    // ws closes the connection itself after these (1009 too big, 1007 invalid UTF-8, 1002 protocol error); log it, keep serving.
    socket.on('error', (error: Error & { code?: string }) => {
      this.log('warn', `${who} closed: ${error.message}${error.code ? ` (${error.code})` : ''}.`);
      socket.terminate();
    });
    socket.on('message', (data, isBinary) => {
      if (isBinary) return refuse(CLOSE_UNSUPPORTED, 'Binary frames are not accepted');
      const parsed = parseClientFrame(data.toString());
      if (!parsed.ok) return refuse(CLOSE_UNSUPPORTED, parsed.reason);
      if (inFlight >= MAX_CALLS_IN_FLIGHT) return refuse(CLOSE_POLICY, `More than ${MAX_CALLS_IN_FLIGHT} calls in flight`);
      const { frame } = parsed;
      inFlight += 1;
      void dispatch(this.options.handlers, frame.method, frame.request, { transport: 'websocket' })
        .catch((error: unknown): Envelope<unknown> => ({ ok: false, error: { code: 'internal', message: (error as Error).message } }))
        .then((envelope) => {
          inFlight -= 1;
          if (socket.readyState !== socket.OPEN) return;
          let text: string;
          try {
            text = JSON.stringify({ kind: 'answer', id: frame.id, envelope } satisfies ServerFrame);
          } catch (error) {
            text = JSON.stringify({ kind: 'answer', id: frame.id, envelope: { ok: false, error: { code: 'internal', message: `The answer could not be encoded: ${(error as Error).message}` } } } satisfies ServerFrame);
          }
          socket.send(text, (error) => error && this.log('warn', `${who}: could not send an answer: ${error.message}.`));
        });
    });
  }
}
