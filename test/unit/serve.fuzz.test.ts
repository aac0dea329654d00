/**
 * Hostile and broken clients against the real serve-mode server: frames
 * over the payload limit, invalid UTF-8, binary frames, truncated frames,
 * frames interleaved into a fragmented message, protocol violations,
 * random bytes, malformed and deeply nested JSON, unusable request ids.
 * Each may cost its own connection (closed with a reason, logged); a
 * well-behaved client connected all along keeps being answered, and a new
 * one is too.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exposureWarning, isLoopbackHost, startServer, type RunningServer } from '../../src/main/serve/server';
import { MAX_CALLS_IN_FLIGHT, MAX_PAYLOAD_BYTES } from '../../src/main/transport/websocket';
import { createWorkbench, type Workbench } from '../../src/main/workbench';
import { fakeSpawner } from '../helpers/fakeEngine';

const backend = {
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

let workbench: Workbench;
let server: RunningServer;
let staticDir: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-fuzz-'));
  staticDir = join(dir, 'renderer');
  mkdirSync(staticDir, { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>shell</title>');
  workbench = createWorkbench({
    dataDir: join(dir, 'data'),
    echoLogs: false,
    spawnEngine: fakeSpawner((call, reply) => reply({ type: 'result', id: call.id, value: backend })),
  });
  server = await startServer({ workbench, staticDir, port: 0 });
});

afterAll(async () => {
  await server.close();
  await workbench.close();
});

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api?token=${server.token}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, id: number | string, method = 'system.info'): Promise<{ id: unknown; envelope: { ok: boolean } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const frame = JSON.parse(data.toString()) as { kind: string; id?: unknown; envelope: { ok: boolean } };
      if (frame.kind === 'answer' && frame.id === id) {
        ws.off('message', onMessage);
        resolve({ id: frame.id, envelope: frame.envelope });
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ kind: 'call', id, method, request: {} }));
  });
}

/** The close code and reason the server answers a connection with. */
function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    ws.on('error', () => undefined);
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** A raw TCP connection past the WebSocket handshake, for frames no client library would send. */
async function rawSocket(target: RunningServer = server): Promise<Socket> {
  const socket = tcpConnect(target.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.on('error', () => undefined);
  socket.write(
    `GET /api?token=${target.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve, reject) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(head.split('\r\n')[0]));
    };
    socket.on('data', onData);
  });
  return socket;
}

/** One frame as RFC 6455 lays it out; clients must mask (the default). */
function frame(opcode: number, payload: Buffer, options: { fin?: boolean; mask?: boolean; rsv?: number; declaredLength?: number } = {}): Buffer {
  const fin = options.fin ?? true;
  const mask = options.mask ?? true;
  const length = options.declaredLength ?? payload.length;
  const head: number[] = [(fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode];
  const maskBit = mask ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    head.push(maskBit | 127);
    const big = Buffer.alloc(8);
    big.writeBigUInt64BE(BigInt(length));
    head.push(...big);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((byte, i) => byte ^ key[i % 4]!));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** Waits until the server ends the raw connection (or gives up after a while, which fails the test). */
function ended(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    socket.resume();
  });
}

const TEXT = 0x1;
const BINARY = 0x2;
const CONTINUATION = 0x0;
const PING = 0x9;

describe('serve mode against hostile clients', () => {
  it('closes only the offending connection, with a reason, and keeps answering everyone else', async () => {
    const bystander = await open();
    expect((await call(bystander, 1)).envelope.ok).toBe(true);

    // Over the payload limit: ws refuses it from the declared length (1009).
    const big = await open();
    const bigClosed = closed(big);
    big.send(Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x61), { binary: false });
    expect((await bigClosed).code).toBe(1009);

    // Invalid UTF-8 in a text frame (1007).
    const utf8 = await open();
    const utf8Closed = closed(utf8);
    utf8.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    expect((await utf8Closed).code).toBe(1007);

    // A binary frame: the API speaks JSON text only (1003, with the reason).
    const binary = await open();
    const binaryClosed = closed(binary);
    binary.send(randomBytes(64), { binary: true });
    expect(await binaryClosed).toEqual({ code: 1003, reason: 'Binary frames are not accepted' });

    // Malformed calls of every kind.
    for (const [text, reason] of [
      ['not json', /not JSON/],
      ['[1,2,3]', /not an object/],
      ['{"kind":"call","id":1e400,"method":"system.info"}', /Invalid request id/],
      ['{"kind":"call","id":1.5,"method":"system.info"}', /Invalid request id/],
      [`{"kind":"call","id":"${'x'.repeat(65)}","method":"system.info"}`, /Invalid request id/],
      ['{"kind":"call","id":{"a":1},"method":"system.info"}', /Invalid request id/],
      ['{"kind":"call","id":3,"method":7}', /method/],
      ['{"kind":"answer","id":3}', /kind/],
      [`${'['.repeat(200_000)}${']'.repeat(200_000)}`, /not an object|not JSON/],
    ] as const) {
      const ws = await open();
      const wsClosed = closed(ws);
      ws.send(text);
      const result = await wsClosed;
      expect(result.code, text.slice(0, 40)).toBe(1003);
      expect(result.reason).toMatch(reason);
    }

    // Truncated frames: a header promising more than ever comes, then the client vanishes.
    for (const bytes of [
      frame(TEXT, Buffer.from('{"kind":"call"'), { declaredLength: 5000 }),
      frame(TEXT, Buffer.alloc(0), { declaredLength: 70_000 }).subarray(0, 6),
      Buffer.from([0x81]),
    ]) {
      const socket = await rawSocket();
      socket.write(bytes);
      socket.destroy();
    }

    // Protocol violations: each ends its connection.
    const violations: Buffer[] = [
      // A fragmented text message interleaved with a new text frame instead of a continuation.
      Buffer.concat([frame(TEXT, Buffer.from('{"kind":'), { fin: false }), frame(TEXT, Buffer.from('{}'))]),
      // A continuation with nothing to continue.
      frame(CONTINUATION, Buffer.from('x')),
      // A fragmented ping (control frames must not be fragmented).
      frame(PING, Buffer.from('p'), { fin: false }),
      // Reserved bits without an extension.
      frame(TEXT, Buffer.from('{}'), { rsv: 0b100 }),
      // Unmasked client frame.
      frame(TEXT, Buffer.from('{}'), { mask: false }),
      // Unknown opcode.
      frame(0x3, Buffer.from('x')),
      // Random bytes.
      randomBytes(4096),
      // A fragmented message whose parts add up past the payload limit.
      Buffer.concat([frame(BINARY, Buffer.alloc(1024), { fin: false }), frame(CONTINUATION, Buffer.alloc(0), { fin: false, declaredLength: MAX_PAYLOAD_BYTES })]),
    ];
    for (const bytes of violations) {
      const socket = await rawSocket();
      socket.write(bytes);
      await ended(socket);
    }

    // A ping between the fragments of a valid call is fine and the call is answered.
    const socket = await rawSocket();
    const answer = new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        if (text.includes('"answer"')) resolve(text);
      });
    });
    const body = JSON.stringify({ kind: 'call', id: 'fragmented', method: 'system.info', request: {} });
    socket.write(Buffer.concat([frame(TEXT, Buffer.from(body.slice(0, 10)), { fin: false }), frame(PING, Buffer.from('p')), frame(CONTINUATION, Buffer.from(body.slice(10)))]));
    expect(await answer).toContain('"id":"fragmented"');
    socket.destroy();

    // Everyone else is still served: the bystander, and a newcomer.
    expect((await call(bystander, 2)).envelope.ok).toBe(true);
    expect((await call(bystander, 'string-id')).id).toBe('string-id');
    const newcomer = await open();
    expect((await call(newcomer, Number.MAX_SAFE_INTEGER)).envelope.ok).toBe(true);
    bystander.close();
    newcomer.close();

    // And each closed connection was logged with its reason.
    const logged = workbench.services.logger.recent(500).map((entry) => entry.message);
    expect(logged.some((message) => /WebSocket connection \d+ .*closed: .*(Max payload|too big)/i.test(message))).toBe(true);
    expect(logged.some((message) => /closed: .*UTF-8/i.test(message))).toBe(true);
    expect(logged.some((message) => /closed: Binary frames are not accepted/.test(message))).toBe(true);
  }, 60_000);

  it('closes a connection that floods it with more calls in flight than the limit', async () => {
    // An engine that never answers: every call stays in flight, however the frames arrive.
    const dir = mkdtempSync(join(tmpdir(), 'serve-flood-'));
    const silent = createWorkbench({ dataDir: join(dir, 'data'), echoLogs: false, spawnEngine: fakeSpawner(() => undefined) });
    const flooded = await startServer({ workbench: silent, staticDir, port: 0 });
    try {
      await floodAndExpectClose(flooded);
    } finally {
      await flooded.close();
      await silent.close();
    }
    const bystander = await open();
    expect((await call(bystander, 1)).envelope.ok).toBe(true);
    bystander.close();
  });

  async function floodAndExpectClose(target: RunningServer): Promise<void> {
    const socket = await rawSocket(target);
    const calls = Array.from({ length: MAX_CALLS_IN_FLIGHT + 50 }, (_, i) => frame(TEXT, Buffer.from(JSON.stringify({ kind: 'call', id: i, method: 'system.info', request: {} }))));
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.write(Buffer.concat(calls));
    await ended(socket);
    // The close frame (opcode 8) carries 1008 and the reason.
    const close = received.indexOf(Buffer.from([0x88]));
    expect(close).toBeGreaterThanOrEqual(0);
    expect(received.subarray(close).toString('latin1')).toContain(`More than ${MAX_CALLS_IN_FLIGHT} calls in flight`);
  }

  it('answers HTTP garbage with 400 and keeps serving pages', async () => {
    const socket = tcpConnect(server.port, '127.0.0.1');
    socket.on('error', () => undefined);
    const reply = new Promise<string>((resolve) => socket.on('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    socket.write('\x00\x01 NOT HTTP\r\n\r\n');
    expect(await reply).toMatch(/^HTTP\/1\.1 400/);
    socket.destroy();
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(200);
  });
});

describe('a non-loopback address', () => {
  it('is announced with a clear warning; loopback is not', async () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('192.168.1.5')).toBe(false);
    expect(server.warnings).toEqual([]);
    const exposed = await startServer({ workbench, staticDir, host: '0.0.0.0', port: 0 });
    try {
      expect(exposed.warnings).toEqual([exposureWarning('0.0.0.0', exposed.port)]);
      expect(exposed.warnings[0]).toMatch(/reachable from the network, protected only by its token/);
      expect(exposed.warnings[0]).toMatch(/TLS reverse proxy/);
      const logged = workbench.services.logger.recent(50).map((entry) => `${entry.level}: ${entry.message}`);
      expect(logged).toContain(`warn: ${exposed.warnings[0]}`);
    } finally {
      await exposed.close();
    }
  });
});
