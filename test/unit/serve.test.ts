import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, staticPath, type RunningServer } from '../../src/main/serve/server';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import type { BackendInfo } from '../../src/shared/types';
import { fakeSpawner } from '../helpers/fakeEngine';

const backend: BackendInfo & { tfjsVersion: string } = {
  name: 'cpu',
  device: 'cpu',
  tensorflowVersion: null,
  libraryPath: null,
  cudaLibraries: [],
  isFastest: false,
  reason: 'fake engine',
  enableCommand: 'npm run setup:tensorflow',
  tfjsVersion: '4.22.0',
};

let dir: string;
let workbench: Workbench;
let server: RunningServer;
let outside: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'serve-test-'));
  const staticDir = join(dir, 'renderer');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>shell</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  const images = join(dir, 'images');
  mkdirSync(images);
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#f00' } }).png().toFile(join(images, 'red.png'));
  outside = join(dir, 'outside.png');
  await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).png().toFile(outside);

  workbench = createWorkbench({
    dataDir: join(dir, 'data'),
    echoLogs: false,
    spawnEngine: fakeSpawner((call, reply) => reply({ type: 'result', id: call.id, value: backend })),
  });
  workbench.services.mediaRoots.add(images);
  server = await startServer({ workbench, staticDir, port: 0 });
});

afterAll(async () => {
  await server.close();
  await workbench.close();
});

const base = () => `http://127.0.0.1:${server.port}`;

function connect(query: string, origin?: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, origin ? { origin } : {});
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number, method: string, request: unknown): Promise<{ ok: boolean; value?: unknown; error?: { code: string } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as { kind: string; id?: number; envelope?: never };
      if (frame.kind === 'answer' && frame.id === id) {
        ws.off('message', onMessage);
        resolve(frame.envelope!);
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ kind: 'call', id, method, request }));
  });
}

describe('serve mode', () => {
  it('prints a loopback URL carrying the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });

  it('serves the renderer with a strict CSP', async () => {
    const response = await fetch(`${base()}/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<title>shell</title>');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    const asset = await fetch(`${base()}/assets/app.js`);
    expect(asset.headers.get('content-type')).toContain('text/javascript');
  });

  it('never serves files outside the renderer folder', () => {
    expect(staticPath('/srv/app', '/../../etc/passwd')).toBeNull();
    expect(staticPath('/srv/app', '/%2e%2e/secret')).toBeNull();
    expect(staticPath('/srv/app', '/assets/a.js')).toBe('/srv/app/assets/a.js');
  });

  it('refuses API connections without the token', async () => {
    await expect(connect('')).rejects.toThrow('HTTP 401');
    await expect(connect('?token=wrong')).rejects.toThrow('HTTP 401');
  });

  it('refuses browser connections from another origin', async () => {
    await expect(connect(`?token=${server.token}`, 'https://evil.example')).rejects.toThrow('HTTP 403');
  });

  it('answers validated calls and pushes events over the socket', async () => {
    const ws = await connect(`?token=${server.token}`, base());
    const info = await call(ws, 1, 'system.info', {});
    expect(info.ok).toBe(true);
    expect(info.value).toMatchObject({ transport: 'websocket', backend: { name: 'cpu', reason: 'fake engine' } });
    const bad = await call(ws, 2, 'system.logs', { limit: 'many' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    const event = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
    workbench.services.logger.info('hello from the test');
    expect(await event).toMatchObject({ kind: 'event', event: 'system.log', payload: { message: 'hello from the test' } });
    ws.close();
  });

  it('serves images only under opened roots, and only with the token', async () => {
    const red = join(dir, 'images', 'red.png');
    const ok = await fetch(`${base()}/media?token=${server.token}&path=${encodeURIComponent(red)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/png');
    const thumb = await fetch(`${base()}/media?token=${server.token}&thumb=64&path=${encodeURIComponent(red)}`);
    expect(thumb.status).toBe(200);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width).toBe(64);
    const denied = await fetch(`${base()}/media?token=${server.token}&path=${encodeURIComponent(outside)}`);
    expect(denied.status).toBe(403);
    const traversal = await fetch(`${base()}/media?token=${server.token}&path=${encodeURIComponent(join(dir, 'images', '..', 'outside.png'))}`);
    expect(traversal.status).toBe(403);
    const noToken = await fetch(`${base()}/media?path=${encodeURIComponent(red)}`);
    expect(noToken.status).toBe(401);
  });
});
