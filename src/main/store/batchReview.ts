/**
 * What batch captioning keeps beyond a job row (migration 0006): the job's
 * options and resolved decoding, per-image outcomes with confidence, reviewed
 * captions and caption-file state, and the counts and outputs the API
 * reports. Results are upserts keyed by (job, path), so a resumed job may
 * re-send a batch it is unsure of.
 */
import type { BatchCounts, BatchItem, BatchItemOutcome, BatchItemsPage, BatchJobOptions, BatchOutputPaths, BatchSort } from '../../shared/batchTypes';
import type { DecodingSettings } from '../../shared/inferenceTypes';
import type { JsonObject } from '../../shared/storeTypes';
import type { SqliteContext } from './context';
import { batchItem, batchSettings, finiteOrNull, type ItemRow, type SettingsRow } from './batchReviewRows';
import { objectJson } from './json';
import { notFound, requireId, requireIntegerIn, requireText } from './validate';

export interface BatchSettings {
  options: BatchJobOptions;
  modelLabel: string;
  decoding: DecodingSettings | null;
  ignored: number;
  excluded: number;
  /** Images the selection holds, once a pass counted them. */
  total: number | null;
  outputs: BatchOutputPaths;
}

export interface BatchItemInput {
  path: string;
  relativePath: string;
  outcome: BatchItemOutcome;
  caption: string | null;
  logProb: number | null;
  confidence: number | null;
  error: string | null;
  /** Its place in the job's listing (outputs are written in this order); absent: keep the one recorded. */
  ordinal?: number | null;
}

export interface BatchItemQuery {
  sort?: BatchSort;
  /** Case-insensitive text in the caption (model's or reviewed) or the path. */
  search?: string;
  /** Only images that failed. */
  failuresOnly?: boolean;
  limit?: number;
  offset?: number;
}

/** A captioned image whose caption file is to be written, and the caption the file holds from before. */
export interface PendingSidecar {
  item: BatchItem;
  writtenCaption: string | null;
}

const ORDER: Record<BatchSort, string> = {
  path: 'image_path',
  // Unscored images (failed, skipped) after every scored one, whichever way.
  'confidence-asc': 'confidence IS NULL, confidence ASC, image_path',
  'confidence-desc': 'confidence IS NULL, confidence DESC, image_path',
};

export class SqliteBatchReviewStore {
  constructor(private readonly context: SqliteContext) {}

  private get db() {
    return this.context.db;
  }

  private requireSettings(jobId: number): SettingsRow {
    requireId(jobId, 'jobId');
    return (this.db.prepare('SELECT * FROM batch_job_settings WHERE job_id = ?').get(jobId) as SettingsRow | undefined) ?? notFound('Batch job', jobId);
  }

  /** Records a new job's options; the job row must exist. */
  async setup(jobId: number, options: BatchJobOptions, modelLabel: string): Promise<void> {
    requireId(jobId, 'jobId');
    requireText(modelLabel, 'modelLabel', 4096);
    if (!this.db.prepare('SELECT 1 FROM batch_jobs WHERE id = ?').get(jobId)) notFound('Batch job', jobId);
    this.db
      .prepare('INSERT INTO batch_job_settings (job_id, options, model_label) VALUES (?, ?, ?)')
      .run(jobId, objectJson(options as unknown as JsonObject, 'options'), modelLabel);
  }

  async settings(jobId: number): Promise<BatchSettings> {
    const row = this.requireSettings(jobId);
    return batchSettings(row);
  }

  async setDecoding(jobId: number, decoding: DecodingSettings): Promise<void> {
    this.requireSettings(jobId);
    this.db.prepare('UPDATE batch_job_settings SET decoding = ? WHERE job_id = ?').run(objectJson(decoding as unknown as JsonObject, 'decoding'), jobId);
  }

  async setTotal(jobId: number, total: number): Promise<void> {
    this.requireSettings(jobId);
    this.db.prepare('UPDATE batch_job_settings SET total = ? WHERE job_id = ?').run(total, jobId);
  }

  async setOutputs(jobId: number, outputs: BatchOutputPaths): Promise<void> {
    this.requireSettings(jobId);
    this.db.prepare('UPDATE batch_job_settings SET outputs = ? WHERE job_id = ?').run(objectJson(outputs as unknown as JsonObject, 'outputs'), jobId);
  }

  /**
   * Stores one batch's results and what the listing passed over, in one
   * transaction. `sidecarPending` marks captioned images whose caption file
   * is still to be written. A re-captioned image keeps no reviewed caption.
   */
  async record(jobId: number, items: readonly BatchItemInput[], passed: { ignored: number; excluded: number; sidecarPending: boolean }): Promise<void> {
    this.requireSettings(jobId);
    items.forEach((item, index) => requireText(item.path, `items[${index}].path`, 4096));
    const upsert = this.db.prepare(
      `INSERT INTO batch_results (job_id, image_path, relative_path, outcome, caption, score, confidence, error, sidecar, edited_caption, ordinal, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)
       ON CONFLICT (job_id, image_path) DO UPDATE SET relative_path = excluded.relative_path, outcome = excluded.outcome,
         ordinal = COALESCE(excluded.ordinal, batch_results.ordinal),
         caption = excluded.caption, score = excluded.score, confidence = excluded.confidence, error = excluded.error,
         sidecar = CASE WHEN excluded.outcome <> 'captioned' THEN batch_results.sidecar
           WHEN excluded.sidecar = 'pending' OR batch_results.sidecar = 'written' THEN 'pending' ELSE excluded.sidecar END, edited_caption = NULL, created_at = excluded.created_at`,
    );
    const now = this.context.clock();
    this.db.transaction(() => {
      for (const item of items) {
        const sidecar = passed.sidecarPending && item.outcome === 'captioned' ? 'pending' : 'none';
        upsert.run(jobId, item.path, item.relativePath, item.outcome, item.caption, finiteOrNull(item.logProb), finiteOrNull(item.confidence), item.error, sidecar, item.ordinal ?? null, now);
      }
      if (passed.ignored || passed.excluded) {
        this.db.prepare('UPDATE batch_job_settings SET ignored = ignored + ?, excluded = excluded + ? WHERE job_id = ?').run(passed.ignored, passed.excluded, jobId);
      }
    })();
  }

  /** Sets (or, with null, clears) the reviewed caption of one image. */
  async edit(jobId: number, path: string, caption: string | null): Promise<BatchItem> {
    this.requireSettings(jobId);
    if (caption !== null) requireText(caption, 'caption', 10_000);
    const changed = this.db
      .prepare(`UPDATE batch_results SET edited_caption = ?, sidecar = CASE WHEN sidecar = 'none' THEN 'none' ELSE 'pending' END WHERE job_id = ? AND image_path = ? AND outcome = 'captioned'`)
      .run(caption, jobId, path).changes;
    if (changed === 0) notFound(`Captioned image in batch job ${jobId}`, path);
    return (await this.itemsAt(jobId, [path]))[0]!;
  }

  async itemsAt(jobId: number, paths: readonly string[]): Promise<BatchItem[]> {
    this.requireSettings(jobId);
    const select = this.db.prepare('SELECT * FROM batch_results WHERE job_id = ? AND image_path = ?');
    return paths.flatMap((path) => {
      const row = select.get(jobId, path) as ItemRow | undefined;
      return row ? [batchItem(row)] : [];
    });
  }

  async items(jobId: number, query: BatchItemQuery = {}): Promise<BatchItemsPage> {
    this.requireSettings(jobId);
    const where = ['job_id = ?'];
    const params: unknown[] = [jobId];
    if (query.failuresOnly) where.push(`outcome = 'failed'`);
    if (query.search && query.search.trim()) {
      where.push(`(instr(lower(COALESCE(edited_caption, caption, '')), ?) > 0 OR instr(lower(COALESCE(relative_path, image_path)), ?) > 0)`);
      const needle = query.search.trim().toLowerCase();
      params.push(needle, needle);
    }
    const limit = query.limit === undefined ? -1 : requireIntegerIn(query.limit, 'limit', 1, 10_000_000);
    const offset = query.offset === undefined ? 0 : requireIntegerIn(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const clause = where.join(' AND ');
    const total = this.db.prepare(`SELECT COUNT(*) FROM batch_results WHERE ${clause}`).pluck().get(...params) as number;
    const rows = this.db
      .prepare(`SELECT * FROM batch_results WHERE ${clause} ORDER BY ${ORDER[query.sort ?? 'path']} LIMIT ? OFFSET ?`)
      .all(...params, limit, offset) as ItemRow[];
    return { items: rows.map(batchItem), total };
  }

  /**
   * Every item in listing order, a page at a time (for output files; memory
   * stays bounded): results without an ordinal (from before shards) first,
   * by path, then the rest by their place in the listing.
   */
  async *pages(jobId: number, pageSize = 1000): AsyncGenerator<BatchItem[]> {
    this.requireSettings(jobId);
    const unordered = this.db.prepare('SELECT * FROM batch_results WHERE job_id = ? AND ordinal IS NULL AND image_path > ? ORDER BY image_path LIMIT ?');
    let after = '';
    for (;;) {
      const rows = unordered.all(jobId, after, pageSize) as ItemRow[];
      if (rows.length === 0) break;
      yield rows.map(batchItem);
      after = rows.at(-1)!.image_path;
    }
    const ordered = this.db.prepare(
      'SELECT * FROM batch_results WHERE job_id = ? AND (ordinal > ? OR (ordinal = ? AND image_path > ?)) ORDER BY ordinal, image_path LIMIT ?',
    );
    let afterOrdinal = -1;
    after = '';
    for (;;) {
      const rows = ordered.all(jobId, afterOrdinal, afterOrdinal, after, pageSize) as ItemRow[];
      if (rows.length === 0) return;
      yield rows.map(batchItem);
      afterOrdinal = rows.at(-1)!.ordinal!;
      after = rows.at(-1)!.image_path;
    }
  }

  /** Captioned images whose caption file is still to be written (among `paths` when given: one shard's). */
  async pendingSidecars(jobId: number, limit = 1000, paths?: readonly string[]): Promise<PendingSidecar[]> {
    this.requireSettings(jobId);
    const among = paths ? 'AND image_path IN (SELECT value FROM json_each(?))' : '';
    const rows = this.db
      .prepare(`SELECT * FROM batch_results WHERE job_id = ? AND sidecar = 'pending' AND outcome = 'captioned' ${among} ORDER BY image_path LIMIT ?`)
      .all(...(paths ? [jobId, JSON.stringify(paths), limit] : [jobId, limit])) as ItemRow[];
    return rows.map((row) => ({ item: batchItem(row), writtenCaption: row.sidecar_caption }));
  }

  /** Records that these images' caption files now hold these captions (null: left as they were). */
  async markSidecarsWritten(jobId: number, written: readonly { path: string; caption: string | null }[]): Promise<void> {
    this.requireSettings(jobId);
    const update = this.db.prepare(
      `UPDATE batch_results SET sidecar = 'written', sidecar_caption = COALESCE(?, sidecar_caption) WHERE job_id = ? AND image_path = ? AND outcome = 'captioned'`,
    );
    this.db.transaction(() => {
      for (const { path, caption } of written) update.run(caption, jobId, path);
    })();
  }

  /** Marks every captioned image's caption file to be (re)written with its current caption. */
  async markAllSidecarsPending(jobId: number): Promise<void> {
    this.requireSettings(jobId);
    this.db.prepare(`UPDATE batch_results SET sidecar = 'pending' WHERE job_id = ? AND outcome = 'captioned'`).run(jobId);
  }

  async counts(jobId: number): Promise<Omit<BatchCounts, 'total'> & { sidecars: number }> {
    const settings = this.requireSettings(jobId);
    const rows = this.db.prepare('SELECT outcome, COUNT(*) AS n FROM batch_results WHERE job_id = ? GROUP BY outcome').all(jobId) as { outcome: BatchItemOutcome; n: number }[];
    const by = (outcome: BatchItemOutcome) => rows.find((row) => row.outcome === outcome)?.n ?? 0;
    const sidecars = this.db.prepare(`SELECT COUNT(*) FROM batch_results WHERE job_id = ? AND sidecar = 'written'`).pluck().get(jobId) as number;
    return { captioned: by('captioned'), skippedExisting: by('skipped'), failed: by('failed'), ignored: settings.ignored, excluded: settings.excluded, sidecars };
  }

  /** Paths already recorded (any outcome): a resumed job leaves them out. */
  async donePaths(jobId: number): Promise<string[]> {
    this.requireSettings(jobId);
    return this.db.prepare('SELECT image_path FROM batch_results WHERE job_id = ? ORDER BY image_path').pluck().all(jobId) as string[];
  }
}

/** The batch review store's surface, for the experiment store's interface. */
export type BatchReviewStore = { [K in keyof SqliteBatchReviewStore]: SqliteBatchReviewStore[K] };
