/**
 * The SQLite experiment store: one database file in the data directory,
 * opened, migrated and checked for interrupted work at open. The engine
 * sends its results to the main process, which writes them; other processes
 * (the CLI, another workbench) may open the same file, and its task claims
 * stay exclusive across all of them.
 */
import type { RecoveryReport } from '../../shared/storeTypes';
import { SqliteBatchJobStore } from './batchJobs';
import { SqliteBatchReviewStore } from './batchReview';
import { SqliteArtifactStore, SqliteCheckpointStore } from './checkpoints';
import { systemClock, type Clock } from './clock';
import type { SqliteContext } from './context';
import { notify } from './context';
import { SqliteDatasetStore } from './datasets';
import { databasePath, openDatabase, type Db } from './db';
import { SqliteEvaluationStore } from './evaluations';
import { migrate, type Migration, type MigrationResult } from './migrate';
import { migrations as allMigrations } from './migrations';
import { MetricWriter, type MetricWriterOptions } from './metricWriter';
import { SqliteMetricStore } from './metrics';
import { RunFiles } from './files';
import { currentOwner, isOwnerAlive, type Owner, type OwnerCheck } from './owner';
import { DEFAULT_STALE_AFTER_MS, isEmptyReport, recoveryReport } from './recovery';
import { SqliteRunStore } from './runs';
import { SqliteSampleStore } from './samples';
import { FACADE_WORKER, type ExperimentStore, type RecoveryOptions, type StoreHooks } from './storage';
import { SqliteStudyStore } from './studies';
import { SqliteTaskStore } from './tasks';

export interface SqliteStoreOptions {
  dataDir: string;
  /** The database file; `<dataDir>/workbench.db` by default, `:memory:` for tests. */
  file?: string;
  hooks?: StoreHooks;
  writer?: MetricWriterOptions;
  /** Silence after which running work is crashed (default 5 minutes). */
  staleAfterMs?: number;
  /** How often the watchdog looks for stale work while open; 0 (default) turns it off. */
  watchdogIntervalMs?: number;
  /** Crash interrupted work at open (default true). */
  recoverOnOpen?: boolean;
  clock?: Clock;
  /** This process (tests pretend to be another). */
  owner?: Owner;
  /** Whether a task's owning process may still be alive; a real process check by default. */
  isOwnerAlive?: OwnerCheck;
  /** Schema to migrate to; the shipped migrations by default (tests pass fewer). */
  migrations?: readonly Migration[];
}

export class SqliteExperimentStore implements ExperimentStore {
  readonly kind = 'sqlite';
  readonly dataDir: string;
  readonly file: string;
  readonly datasets: SqliteDatasetStore;
  readonly runs: SqliteRunStore;
  readonly metrics: SqliteMetricStore;
  readonly metricWriter: MetricWriter;
  readonly checkpoints: SqliteCheckpointStore;
  readonly artifacts: SqliteArtifactStore;
  readonly samples: SqliteSampleStore;
  readonly evaluations: SqliteEvaluationStore;
  readonly studies: SqliteStudyStore;
  readonly batchJobs: SqliteBatchJobStore;
  readonly tasks: SqliteTaskStore;
  readonly batchReview: SqliteBatchReviewStore;
  /** What opening did: migrations applied and work found interrupted. */
  readonly opened: { migration: MigrationResult; recovered: RecoveryReport | null };

  private readonly context: SqliteContext;
  private readonly staleAfterMs: number;
  private watchdog: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly db: Db,
    options: SqliteStoreOptions,
    migration: MigrationResult,
  ) {
    this.dataDir = options.dataDir;
    this.file = db.name;
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
    const owner = options.owner ?? currentOwner();
    this.context = {
      db,
      files: new RunFiles(options.dataDir),
      clock: options.clock ?? systemClock,
      owner,
      taskOwner: { host: owner.host, pid: owner.pid, worker: FACADE_WORKER },
      isOwnerAlive: options.isOwnerAlive ?? isOwnerAlive,
      hooks: options.hooks ?? {},
    };
    this.tasks = new SqliteTaskStore(this.context);
    this.datasets = new SqliteDatasetStore(this.context);
    this.runs = new SqliteRunStore(this.context, this.tasks);
    this.metrics = new SqliteMetricStore(this.context);
    this.metricWriter = new MetricWriter((points) => this.metrics.append(points), {
      onError: (message) => notify(this.context.hooks.onError, message),
      ...options.writer,
    });
    this.checkpoints = new SqliteCheckpointStore(this.context);
    this.artifacts = new SqliteArtifactStore(this.context);
    this.samples = new SqliteSampleStore(this.context);
    this.evaluations = new SqliteEvaluationStore(this.context);
    this.studies = new SqliteStudyStore(this.context, this.tasks);
    this.batchJobs = new SqliteBatchJobStore(this.context, this.tasks);
    this.batchReview = new SqliteBatchReviewStore(this.context);

    const recovered = options.recoverOnOpen === false ? null : this.recoverNow(this.staleAfterMs);
    this.opened = { migration, recovered };
    const interval = options.watchdogIntervalMs ?? 0;
    if (interval > 0) {
      this.watchdog = setInterval(() => {
        try {
          this.recoverNow(this.staleAfterMs);
        } catch (error) {
          notify(this.context.hooks.onError, `Crash check failed: ${(error as Error).message}`);
        }
      }, interval);
      // The watchdog alone must not keep a process alive.
      this.watchdog.unref();
    }
  }

  async recoverInterrupted(options: RecoveryOptions = {}): Promise<RecoveryReport> {
    return this.recoverNow(options.staleAfterMs ?? this.staleAfterMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    await this.metricWriter.close();
    this.db.close();
  }

  /** Crashes stale tasks (their runs' hooks fire on commit) and reports them. */
  private recoverNow(staleAfterMs: number): RecoveryReport {
    const report = recoveryReport(this.db, this.tasks.recoverStaleNow({ staleAfterMs }));
    if (!isEmptyReport(report)) notify(this.context.hooks.onRecovered, report);
    return report;
  }
}

/** Opens (creating and migrating as needed) the store of a data directory. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteExperimentStore {
  const file = options.file ?? databasePath(options.dataDir);
  const db = openDatabase(file);
  try {
    const migration = migrate(db, options.migrations ?? allMigrations, file);
    return new SqliteExperimentStore(db, options, migration);
  } catch (error) {
    db.close();
    throw error;
  }
}
