/**
 * The PostgreSQL experiment store: the same interface and rules as the
 * SQLite store (../storage.ts), for a database that workers on several
 * machines share. Paths of checkpoints and artifacts are stored relative to
 * the data directory, so every machine that mounts the shared data directory
 * (at any path) resolves them.
 *
 * Opening is synchronous: migrations start at once and every statement waits
 * for them, so the workbench is assembled the same way for both stores.
 */
import type { RecoveryReport } from '../../../shared/storeTypes';
import { systemClock, type Clock } from '../clock';
import { notify } from '../context';
import { RunFiles } from '../files';
import type { MigrationResult } from '../migrate';
import { MetricWriter, type MetricWriterOptions } from '../metricWriter';
import { currentOwner, isOwnerAlive, type Owner, type OwnerCheck } from '../owner';
import { DEFAULT_STALE_AFTER_MS, isEmptyReport } from '../recovery';
import { FACADE_WORKER, type ExperimentStore, type RecoveryOptions, type StoreHooks } from '../storage';
import { PgBatchJobStore } from './batchJobs';
import { PgBatchReviewStore } from './batchReview';
import { PgArtifactStore, PgCheckpointStore } from './checkpoints';
import type { PgContext } from './context';
import { PgDatasetStore } from './datasets';
import { PgEvaluationStore } from './evaluations';
import { PgMetricStore } from './metrics';
import { migratePostgres, pgMigrations, type PgMigration } from './migrations';
import { PgRunStore } from './runs';
import { PgSampleStore } from './samples';
import { createPool, Database } from './sql';
import { PgStudyStore } from './studies';
import { PgTaskStore } from './tasks';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/database` */
  url: string;
  /** The shared data directory files are stored under (relative paths in the database). */
  dataDir: string;
  /** Schema for the tables (default `public`); one database can hold several workbenches. */
  schema?: string;
  /** Connections this process may hold (default 10). */
  poolSize?: number;
  hooks?: StoreHooks;
  writer?: MetricWriterOptions;
  staleAfterMs?: number;
  /** How often the watchdog looks for stale work while open; 0 (default) turns it off. */
  watchdogIntervalMs?: number;
  /** Crash interrupted work once migrations are done (default true). */
  recoverOnOpen?: boolean;
  clock?: Clock;
  owner?: Owner;
  isOwnerAlive?: OwnerCheck;
  migrations?: readonly PgMigration[];
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}

export class PostgresExperimentStore implements ExperimentStore {
  readonly kind = 'postgres';
  readonly dataDir: string;
  /** Where it connects, without the password. */
  readonly location: string;
  readonly datasets: PgDatasetStore;
  readonly runs: PgRunStore;
  readonly metrics: PgMetricStore;
  readonly metricWriter: MetricWriter;
  readonly checkpoints: PgCheckpointStore;
  readonly artifacts: PgArtifactStore;
  readonly samples: PgSampleStore;
  readonly evaluations: PgEvaluationStore;
  readonly studies: PgStudyStore;
  readonly batchJobs: PgBatchJobStore;
  readonly tasks: PgTaskStore;
  readonly batchReview: PgBatchReviewStore;
  /** Resolves once migrations ran (and, unless turned off, the open-time crash check): what they did. */
  readonly opened: Promise<{ migration: MigrationResult; recovered: RecoveryReport | null }>;

  private readonly db: Database;
  private readonly context: PgContext;
  private readonly staleAfterMs: number;
  private watchdog: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    this.dataDir = options.dataDir;
    this.location = redactUrl(options.url) + (options.schema ? ` (schema ${options.schema})` : '');
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    const schema = options.schema ?? 'public';
    const pool = createPool({ url: options.url, schema: options.schema, max: options.poolSize });
    this.db = new Database(pool);
    const migration = migratePostgres(pool, this.location, schema, options.migrations ?? pgMigrations);
    const owner = options.owner ?? currentOwner();
    this.context = {
      db: this.db,
      files: new RunFiles(options.dataDir),
      clock: options.clock ?? systemClock,
      owner,
      taskOwner: { host: owner.host, pid: owner.pid, worker: FACADE_WORKER },
      isOwnerAlive: options.isOwnerAlive ?? isOwnerAlive,
      hooks: options.hooks ?? {},
    };
    this.tasks = new PgTaskStore(this.context);
    this.datasets = new PgDatasetStore(this.context);
    this.runs = new PgRunStore(this.context, this.tasks);
    this.metrics = new PgMetricStore(this.context);
    this.metricWriter = new MetricWriter((points) => this.metrics.append(points), {
      onError: (message) => notify(this.context.hooks.onError, message),
      ...options.writer,
    });
    this.checkpoints = new PgCheckpointStore(this.context);
    this.artifacts = new PgArtifactStore(this.context);
    this.samples = new PgSampleStore(this.context);
    this.evaluations = new PgEvaluationStore(this.context);
    this.studies = new PgStudyStore(this.context, this.tasks);
    this.batchJobs = new PgBatchJobStore(this.context, this.tasks);
    this.batchReview = new PgBatchReviewStore(this.context);

    // Opening work runs on the pool without the gate; everything else waits for it.
    const opening = { ...this.context, db: this.db.ungated() };
    this.opened = migration.then(async (result) => ({
      migration: result,
      recovered: options.recoverOnOpen === false ? null : await this.recoverWith(opening, this.staleAfterMs),
    }));
    this.db.whenReady(this.opened.then(() => undefined));
    // A failure reaches every statement (and whoever awaits `opened`); it must not also be unhandled.
    this.opened.catch(() => undefined);
    const interval = options.watchdogIntervalMs ?? 0;
    if (interval > 0) {
      this.watchdog = setInterval(() => {
        this.recoverNow(this.staleAfterMs).catch((error: unknown) =>
          notify(this.context.hooks.onError, `Crash check failed: ${(error as Error).message}`),
        );
      }, interval);
      this.watchdog.unref();
    }
  }

  /** Waits for the migrations; throws what they threw (an unreachable server, a newer schema). */
  async ready(): Promise<this> {
    await this.db.waitReady();
    return this;
  }

  async recoverInterrupted(options: RecoveryOptions = {}): Promise<RecoveryReport> {
    return this.recoverNow(options.staleAfterMs ?? this.staleAfterMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    try {
      await this.metricWriter.close();
    } finally {
      await this.db.pool.end();
    }
  }

  private recoverNow(staleAfterMs: number): Promise<RecoveryReport> {
    return this.recoverWith(this.context, staleAfterMs);
  }

  private async recoverWith(context: PgContext, staleAfterMs: number): Promise<RecoveryReport> {
    const tasks = context === this.context ? this.tasks : new PgTaskStore(context);
    const ids = await tasks.recoverStaleIds({ staleAfterMs });
    const report: RecoveryReport = { runs: [], trials: [], batchJobs: [], studies: [], tasks: [...ids] };
    const sql = context.db.sql;
    for (const taskId of ids) {
      report.runs.push(...(await sql.column<number>('SELECT id FROM runs WHERE task_id = ? ORDER BY id', [taskId])));
      report.trials.push(...(await sql.column<number>('SELECT id FROM trials WHERE task_id = ? ORDER BY id', [taskId])));
      report.batchJobs.push(...(await sql.column<number>('SELECT id FROM batch_jobs WHERE task_id = ? ORDER BY id', [taskId])));
      report.studies.push(...(await sql.column<number>('SELECT id FROM studies WHERE task_id = ? ORDER BY id', [taskId])));
    }
    if (!isEmptyReport(report)) notify(this.context.hooks.onRecovered, report);
    return report;
  }
}

/** Opens the store (migrations run in the background; statements wait for them). */
export function openPostgresStore(options: PostgresStoreOptions): PostgresExperimentStore {
  return new PostgresExperimentStore(options);
}
