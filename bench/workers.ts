/**
 * `npm run bench -- workers [--tasks 240] [--work-ms 25] [--workers 1,2,3] [--store postgres://…]`:
 * the task queue of a shared PostgreSQL store under 1, 2 and 3 worker
 * processes on this machine.
 *
 * Each worker is a separate process with its own connection pool, doing
 * what `captioner worker` does per task: claim (FOR UPDATE SKIP LOCKED),
 * work, one heartbeat with progress, finish. The work is `--work-ms` of
 * pure CPU per task, standing in for captioning one shard of images, so the
 * numbers show what the queue adds and how throughput scales with workers
 * on this machine's cores (CPU-bound: it stops scaling at the core count).
 *
 * Per worker count it prints: tasks per second, claim latency (median and
 * 95th percentile, ms), and the database's load per task from
 * pg_stat_database (transactions committed, rows read and written). Without
 * --store it starts a throwaway PostgreSQL 15 (test/helpers/postgres.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPostgresStore } from '../src/main/store/postgres/store';

function print(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'workers', ...result })}\n`);
}

function option(args: string[], name: string, fallback: string): string {
  const index = args.indexOf(`--${name}`);
  return index >= 0 && args[index + 1] !== undefined ? (args[index + 1] as string) : fallback;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/** Busy CPU for `ms`, as a captioning step would be. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) x += Math.sqrt(x + 1);
  if (x < 0) throw new Error('unreachable');
}

// ─── one worker process ─────────────────────────────────────────────────────

async function child(): Promise<void> {
  const { BENCH_URL: url, BENCH_SCHEMA: schema, BENCH_WORK_MS: workMs, BENCH_NAME: name } = process.env;
  const store = await openPostgresStore({ url: url!, schema: schema!, dataDir: tmpdir(), recoverOnOpen: false, poolSize: 2 }).ready();
  const owner = { host: hostname(), pid: process.pid, worker: name! };
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const claims: number[] = [];
  for (;;) {
    const start = performance.now();
    const task = await store.tasks.claim(owner, ['batch']);
    claims.push(performance.now() - start);
    if (!task) break;
    spin(Number(workMs));
    await store.tasks.heartbeat(task.id, owner, { stage: 'captioning', done: 1, total: 1, unit: 'shards', throughput: null, etaSeconds: null });
    await store.tasks.finish(task.id, owner, { state: 'completed', result: { images: 1 } });
  }
  process.stdout.write(`${JSON.stringify({ claims })}\n`);
  await store.close();
  process.exit(0);
}

// ─── the benchmark ──────────────────────────────────────────────────────────

interface WorkerProcess {
  ready: Promise<void>;
  done: Promise<number[]>;
  go(): void;
}

function startWorker(url: string, schema: string, workMs: number, name: string): WorkerProcess {
  const proc = spawn(process.execPath, ['--import', 'tsx', __filename], {
    env: { ...process.env, BENCH_WORKERS_CHILD: '1', BENCH_URL: url, BENCH_SCHEMA: schema, BENCH_WORK_MS: String(workMs), BENCH_NAME: name },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const done = new Promise<number[]>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready\n')) markReady();
    });
    proc.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`worker ${name} exited with ${code}`));
      else resolve((JSON.parse(last) as { claims: number[] }).claims);
    });
  });
  return { ready, done, go: () => proc.stdin!.end('go\n') };
}

interface DbStats {
  xact_commit: number;
  tup_returned: number;
  tup_fetched: number;
  tup_inserted: number;
  tup_updated: number;
}

async function dbStats(pool: pg.Pool): Promise<DbStats> {
  const { rows } = await pool.query<Record<keyof DbStats, string>>(
    `SELECT xact_commit, tup_returned, tup_fetched, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = current_database()`,
  );
  const row = rows[0]!;
  return {
    xact_commit: Number(row.xact_commit),
    tup_returned: Number(row.tup_returned),
    tup_fetched: Number(row.tup_fetched),
    tup_inserted: Number(row.tup_inserted),
    tup_updated: Number(row.tup_updated),
  };
}

export async function run(args: string[]): Promise<void> {
  const taskCount = Number(option(args, 'tasks', '240'));
  const workMs = Number(option(args, 'work-ms', '25'));
  const counts = option(args, 'workers', '1,2,3').split(',').map(Number);
  const given = option(args, 'store', '');
  let stop = async () => undefined as void;
  let url = given;
  if (!given) {
    const { startPostgres } = await import('../test/helpers/postgres');
    const server = await startPostgres();
    url = await server.createDatabase('bench_workers');
    stop = () => server.stop();
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-workers-'));
  const stats = new pg.Pool({ connectionString: url, max: 1 });
  try {
    for (const workers of counts) {
      const schema = `bench_workers_${workers}_${process.pid}`;
      const store = await openPostgresStore({ url, schema, dataDir, recoverOnOpen: false }).ready();
      for (let index = 0; index < taskCount; index++) await store.tasks.create({ kind: 'batch', title: `shard ${index}`, params: { shard: index } });
      const processes = Array.from({ length: workers }, (_, index) => startWorker(url, schema, workMs, `bench-${index + 1}`));
      await Promise.all(processes.map((worker) => worker.ready));
      // Stats are flushed by each backend at most once a second; let the setup's settle first.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const before = await dbStats(stats);
      const start = performance.now();
      for (const worker of processes) worker.go();
      const claims = (await Promise.all(processes.map((worker) => worker.done))).flat().sort((a, b) => a - b);
      const seconds = (performance.now() - start) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const after = await dbStats(stats);
      const completed = (await store.tasks.list({ states: ['completed'], limit: 100_000 })).length;
      await store.close();
      const per = (...keys: Array<keyof DbStats>) => Math.round((keys.reduce((sum, key) => sum + after[key] - before[key], 0) / taskCount) * 10) / 10;
      print({
        workers,
        cores: cpus().length,
        tasks: taskCount,
        completed,
        workMsPerTask: workMs,
        seconds: Math.round(seconds * 100) / 100,
        tasksPerSecond: Math.round((taskCount / seconds) * 10) / 10,
        idealTasksPerSecond: Math.round((workers * 1000) / workMs),
        claimMsMedian: Math.round(quantile(claims, 0.5) * 100) / 100,
        claimMsP95: Math.round(quantile(claims, 0.95) * 100) / 100,
        commitsPerTask: per('xact_commit'),
        rowsReadPerTask: per('tup_returned', 'tup_fetched'),
        rowsWrittenPerTask: per('tup_inserted', 'tup_updated'),
      });
      await stats.query(`DROP SCHEMA "${schema}" CASCADE`);
    }
  } finally {
    await stats.end();
    rmSync(dataDir, { recursive: true, force: true });
    await stop();
  }
}

if (process.env.BENCH_WORKERS_CHILD === '1') void child();
