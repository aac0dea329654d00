/**
 * The API over a WebSocket (serve mode). A connection must present the
 * session token and, when it comes from a browser, an Origin that is the
 * server itself; anything else is refused before the upgrade.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Handlers } from '../api/handlers';
import { dispatch } from '../api/handlers';
import type { EventBus } from '../core/eventBus';
import { parseClientFrame, type ServerFrame } from './wsProtocol';

export interface WebSocketApiOptions {
  handlers: Handlers;
  bus: EventBus;
  token: string;
  /** Origins a browser may connect from, e.g. `http://127.0.0.1:5170`. */
  allowedOrigins: () => string[];
}

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
  private readonly server = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  private readonly detach: () => void;

  constructor(private readonly options: WebSocketApiOptions) {
    this.server.on('connection', (socket) => this.serve(socket));
    this.detach = options.bus.attach((event, payload) => {
      const frame = JSON.stringify({ kind: 'event', event, payload } satisfies ServerFrame);
      for (const client of this.server.clients) if (client.readyState === client.OPEN) client.send(frame);
    });
  }

  /** Handles an HTTP upgrade; refuses with 401/403 and a reason the client can read. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
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

  private serve(socket: WebSocket): void {
    socket.on('message', (data) => {
      const frame = parseClientFrame(data.toString());
      if (!frame) {
        socket.close(1003, 'Malformed frame');
        return;
      }
      void dispatch(this.options.handlers, frame.method, frame.request, { transport: 'websocket' }).then((envelope) => {
        if (socket.readyState === socket.OPEN) {
          socket.send(JSON.stringify({ kind: 'answer', id: frame.id, envelope } satisfies ServerFrame));
        }
      });
    });
  }
}
