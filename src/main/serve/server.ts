/**
 * Serve mode: the built renderer, local images and the WebSocket API on one
 * HTTP server, bound to 127.0.0.1 unless told otherwise. The page URL carries
 * a random token that the API and the image route require.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import { readMedia } from '../core/media';
import type { Workbench } from '../workbench';
import { tokensEqual, WebSocketApi } from '../transport/websocket';

export interface ServeOptions {
  workbench: Workbench;
  /** The built renderer (out/renderer). */
  staticDir: string;
  host?: string;
  port?: number;
  token?: string;
  /** Origins besides the server's own that browsers may connect from: a TLS reverse proxy's `https://host`. */
  origins?: string[];
}

export interface RunningServer {
  url: string;
  token: string;
  port: number;
  /** Things the person starting the server must know (a non-loopback address). */
  warnings: string[];
  close(): Promise<void>;
}

/** True for addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare) || bare === '::ffff:127.0.0.1';
}

export function exposureWarning(host: string, port: number): string {
  const where = host === '0.0.0.0' || host === '::' ? 'every network interface' : host;
  return (
    `Serving on ${where}:${port}: the workbench is reachable from the network, protected only by its token, ` +
    'and the traffic (token included) is not encrypted. Prefer an SSH tunnel, or put it behind a TLS reverse proxy ' +
    '(docs/reliability.md, "A remote GPU box").'
  );
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const { services, handlers } = options.workbench;
  let origins: string[] = [];
  const api = new WebSocketApi({
    handlers,
    bus: services.bus,
    token,
    allowedOrigins: () => origins,
    log: (level, message) => services.logger.log(level, message),
  });
  const thumbCache = join(services.dataDir, 'cache', 'thumbnails');

  const server = createServer((request, response) => {
    void respond(request, response).catch((error: unknown) => {
      send(response, 500, 'text/plain', `Internal error: ${(error as Error).message}`);
    });
  });

  async function respond(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'Method not allowed.');
    if (url.pathname === '/media') {
      if (!tokensEqual(url.searchParams.get('token') ?? '', token)) return send(response, 401, 'text/plain', 'Missing or wrong token.');
      const thumb = url.searchParams.get('thumb');
      const result = await readMedia(services.mediaRoots, thumbCache, url.searchParams.get('path') ?? '', thumb ? Number(thumb) : null);
      if (!result.ok) return send(response, result.status, 'text/plain', result.message);
      response.setHeader('Cache-Control', 'private, max-age=3600');
      return send(response, 200, result.contentType, result.body);
    }
    const file = staticPath(options.staticDir, url.pathname === '/' ? '/index.html' : url.pathname);
    if (!file) return send(response, 404, 'text/plain', 'Not found.');
    try {
      const body = await readFile(file);
      send(response, 200, STATIC_TYPES[extname(file)] ?? 'application/octet-stream', body);
    } catch {
      // Client-side routes fall back to the app shell.
      const shell = await readFile(join(options.staticDir, 'index.html')).catch(() => null);
      if (!shell) return send(response, 404, 'text/plain', `The renderer is not built (${options.staticDir}). Run npm run build.`);
      send(response, 200, STATIC_TYPES['.html']!, shell);
    }
  }

  server.on('upgrade', (request, socket, head) => api.handleUpgrade(request, socket, head));
  // A malformed HTTP request or a reset costs that client its connection, nothing more.
  server.on('clientError', (error, socket) => {
    services.logger.log('warn', `HTTP client error: ${error.message}`);
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const displayHost = host.includes(':') ? `[${host}]` : host;
  origins = [`http://${displayHost}:${port}`, `http://localhost:${port}`, `http://127.0.0.1:${port}`, ...(options.origins ?? [])];
  const warnings = isLoopbackHost(host) ? [] : [exposureWarning(host, port)];
  for (const warning of warnings) services.logger.warn(warning);
  return {
    url: `http://${displayHost}:${port}/?token=${token}`,
    token,
    port,
    warnings,
    close: async () => {
      api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(response: ServerResponse, status: number, type: string, body: string | Buffer): void {
  response.statusCode = status;
  response.setHeader('Content-Type', type);
  response.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'no-referrer');
  response.end(body);
}

/** A file under `root` for a URL path, or null for anything that escapes it. */
export function staticPath(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = normalize(join(root, decoded));
  return full === root || full.startsWith(root.endsWith(sep) ? root : root + sep) ? full : null;
}
