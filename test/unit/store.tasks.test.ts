/**
 * Task claims across real processes on one SQLite file: the contract suite
 * races two connections inside one process (which SQLite serialises on its
 * single thread); here several processes claim and finish at the same time,
 * each with its own connection, as several workbench processes or CLI
 * executors sharing a data directory would.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/main/store/sqliteStore';
import { tempDataDir } from '../helpers/storeFixtures';

const ROOT = resolve(__dirname, '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/**
 * One executor process: opens the store, says `ready`, waits for `go` on
 * stdin, then claims and finishes until no task is left, and prints the ids
 * it claimed as one JSON line.
 */
const EXECUTOR = `
import { hostname } from 'node:os';
import { openSqliteStore } from ${JSON.stringify(join(ROOT, 'src/main/store/sqliteStore.ts'))};
const store = openSqliteStore({ dataDir: process.env.DATA_DIR!, recoverOnOpen: false });
const owner = { host: hostname(), pid: process.pid, worker: process.env.WORKER! };
process.stdout.write('ready\\n');
process.stdin.once('data', async () => {
  const claimed: number[] = [];
  for (;;) {
    const task = await store.tasks.claim(owner, ['batch']);
    if (!task) break;
    claimed.push(task.id);
    await store.tasks.heartbeat(task.id, owner, { stage: 'working', done: 1, total: 1, unit: 'items', throughput: null, etaSeconds: null });
    await store.tasks.finish(task.id, owner, { state: 'completed', result: { by: owner.worker } });
  }
  await store.close();
  process.stdout.write(JSON.stringify(claimed) + '\\n');
  process.exit(0);
});
`;

interface Executor {
  ready: Promise<void>;
  go(): void;
  claimed: Promise<number[]>;
}

function startExecutor(dataDir: string, worker: string): Executor {
  const child = spawn(TSX, ['-e', EXECUTOR], { env: { ...process.env, DATA_DIR: dataDir, WORKER: worker }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolveReady) => (markReady = resolveReady));
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const claimed = new Promise<number[]>((resolveClaimed, reject) => {
    child.on('exit', (code) => {
      const last = output.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('[')) reject(new Error(`Executor ${worker} exited with ${String(code)}: ${errors || output}`));
      else resolveClaimed(JSON.parse(last) as number[]);
    });
  });
  return { ready, go: () => child.stdin.write('go\n'), claimed };
}

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir('tasks-');
});
afterEach(() => {
  data.remove();
});

describe('claims from several processes on one database file', () => {
  it('give every task to exactly one process, and every process finishes what it claimed', async () => {
    const store = openSqliteStore({ dataDir: data.dir });
    const ids: number[] = [];
    for (let index = 0; index < 80; index++) ids.push((await store.tasks.create({ kind: 'batch', title: `job ${index}`, params: { index } })).id);
    // Another kind waits too: nobody asked for it.
    const other = await store.tasks.create({ kind: 'evaluation', title: 'not for them', params: {} });

    const executors = ['p1', 'p2', 'p3', 'p4'].map((worker) => startExecutor(data.dir, worker));
    await Promise.all(executors.map((executor) => executor.ready));
    for (const executor of executors) executor.go();
    const claimed = await Promise.all(executors.map((executor) => executor.claimed));

    const all = claimed.flat().sort((a, b) => a - b);
    expect(all).toEqual(ids);
    expect(new Set(all).size).toBe(all.length);
    const tasks = await store.tasks.list({ kinds: ['batch'], limit: 1000 });
    expect(tasks).toHaveLength(ids.length);
    claimed.forEach((mine, index) => {
      for (const id of mine) {
        const task = tasks.find((candidate) => candidate.id === id);
        expect(task).toMatchObject({ state: 'completed', attempts: 1, result: { by: `p${index + 1}` }, owner: { worker: `p${index + 1}` } });
      }
    });
    expect((await store.tasks.get(other.id))?.state).toBe('queued');
    await store.close();
  }, 60_000);
});
