/**
 * `npm run bench -- workers [--tasks 240] [--work-ms 25] [--workers 1,2,3] [--store postgres://…]
 *                           [--batch-images 1200] [--shard-size 100] [--batch-workers 1,2,3]`:
 * the task queue of a shared PostgreSQL store under 1, 2 and 3 worker
 * processes on this machine, then a real batch job under 1, 2 and 3
 * `captioner worker` processes.
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
 *
 * The batch rows time `captioner batch --queue` over `--batch-images` PNGs
 * (16–32 px, generated) split into shards of `--shard-size`, with a tiny
 * trained model (scratch CNN at 32 px, merge LSTM 128, greedy) exported as a
 * package, from job creation until its outputs are written, with the
 * workers already started (each loads its engine and model on its first
 * task, which is counted). `--batch-images 0` leaves them out.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir } from 'node:os';
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

// ─── a real batch job ───────────────────────────────────────────────────────

const CLI = join(__dirname, '..', 'src', 'main', 'cli', 'index.ts');

/** Runs `captioner ARGS` as a process; resolves with its stdout once it exits 0. */
function captioner(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env, CAPTIONER_CLI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    proc.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`captioner ${args[0]} exited with ${code}: ${err.slice(-2000)}`))));
  });
}

/** A tiny trained model as a package folder, and a folder of small PNGs. */
async function batchFixtures(root: string, images: number): Promise<{ packageDir: string; folder: string }> {
  const { trainTinyRun } = await import('../test/helpers/trainedRun');
  const sharp = (await import('sharp')).default;
  const run = await trainTinyRun({ images: 12, seed: 6 });
  const packageDir = join(root, 'package');
  await captioner(['export', String(run.runId), '--out', packageDir, '--data-dir', run.dataDir]);
  const folder = join(root, 'images');
  mkdirSync(folder, { recursive: true });
  for (let index = 0; index < images; index++) {
    const size = 16 + (index % 17);
    await sharp({ create: { width: size, height: size, channels: 3, background: { r: (index * 37) % 256, g: (index * 91) % 256, b: (index * 13) % 256 } } })
      .png()
      .toFile(join(folder, `img_${String(index).padStart(5, '0')}.png`));
  }
  return { packageDir, folder };
}

interface CliWorker {
  ready: Promise<void>;
  stop(): Promise<void>;
}

function startCliWorker(storeUrl: string, dataDir: string, name: string): CliWorker {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', '--store', storeUrl, '--data-dir', dataDir, '--name', name, '--json'], {
    env: { ...process.env, CAPTIONER_CLI: '1', CAPTIONER_POLL_MS: '300' },
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"type":"ready"')) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`worker ${name} exited with ${code} before it was ready`)));
  });
  return {
    ready,
    async stop() {
      process.kill(-proc.pid!, 'SIGINT');
      await exited;
    },
  };
}

/** One row per worker count: a whole batch job's images per second, from `captioner batch --queue` to its end. */
async function batchRows(url: string, counts: number[], images: number, shardSize: number): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'bench-workers-batch-'));
  try {
    const { packageDir, folder } = await batchFixtures(root, images);
    for (const workers of counts) {
      const schema = `bench_batch_${workers}_${process.pid}`;
      const storeUrl = `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
      const dataDir = join(root, `shared-${workers}`);
      mkdirSync(dataDir);
      const processes = Array.from({ length: workers }, (_, index) => startCliWorker(storeUrl, dataDir, `batch-${index + 1}`));
      try {
        await Promise.all(processes.map((worker) => worker.ready));
        const loadBefore = loadavg()[0]!;
        const csv = join(root, `out-${workers}.csv`);
        const start = performance.now();
        const out = await captioner(
          ['batch', folder, '--model', packageDir, '--greedy', '--batch-size', '32', '--shard-size', String(shardSize), '--csv', csv, '--store', storeUrl, '--data-dir', dataDir, '--queue', '--json'],
          { CAPTIONER_POLL_MS: '300' },
        );
        const seconds = (performance.now() - start) / 1000;
        const final = JSON.parse(out.trim().split('\n').pop()!) as { status: string; counts: { captioned: number } };
        const rows = readFileSync(csv, 'utf8').trim().split('\n').length - 1;
        print({
          kind: 'batch-job',
          workers,
          cores: cpus().length,
          images,
          shardSize,
          status: final.status,
          captioned: final.counts.captioned,
          csvRows: rows,
          seconds: Math.round(seconds * 100) / 100,
          imagesPerSecond: Math.round((images / seconds) * 10) / 10,
          loadAverageBefore: Math.round(loadBefore * 10) / 10,
          loadAverageAfter: Math.round(loadavg()[0]! * 10) / 10,
        });
      } finally {
        await Promise.all(processes.map((worker) => worker.stop()));
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<void> {
  const taskCount = Number(option(args, 'tasks', '240'));
  const workMs = Number(option(args, 'work-ms', '25'));
  const counts = option(args, 'workers', '1,2,3').split(',').map(Number);
  const given = option(args, 'store', '');
  const batchImages = Number(option(args, 'batch-images', '1200'));
  const shardSize = Number(option(args, 'shard-size', '100'));
  const batchCounts = option(args, 'batch-workers', '1,2,3').split(',').map(Number);
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
        kind: 'queue',
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
    if (batchImages > 0) await batchRows(url, batchCounts, batchImages, shardSize);
  } finally {
    await stats.end();
    rmSync(dataDir, { recursive: true, force: true });
    await stop();
  }
}

if (process.env.BENCH_WORKERS_CHILD === '1') void child();
