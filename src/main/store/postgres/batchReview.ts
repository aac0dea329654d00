/**
 * Batch captioning's review data in PostgreSQL (migration 6): the same
 * surface and rules as ../batchReview.ts. Results are upserts keyed by
 * (job, path), so workers re-sending a batch they are unsure of change
 * nothing; paths sort in code-point order as in SQLite.
 */
import type { BatchCounts, BatchItem, BatchItemOutcome, BatchItemsPage, BatchJobOptions, BatchOutputPaths, BatchSort } from '../../../shared/batchTypes';
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import type { JsonObject } from '../../../shared/storeTypes';
import type { BatchItemInput, BatchItemQuery, BatchReviewStore, BatchSettings, PendingSidecar } from '../batchReview';
import { batchItem, batchSettings, finiteOrNull, type ItemRow, type SettingsRow } from '../batchReviewRows';
import { objectJson } from '../json';
import { notFound, requireId, requireIntegerIn, requireText } from '../validate';
import type { PgContext } from './context';
import type { Sql } from './sql';

const PATH_ORDER = 'image_path COLLATE "C"';
const ORDER: Record<BatchSort, string> = {
  path: PATH_ORDER,
  'confidence-asc': `confidence IS NULL, confidence ASC, ${PATH_ORDER}`,
  'confidence-desc': `confidence IS NULL, confidence DESC, ${PATH_ORDER}`,
};

export class PgBatchReviewStore implements BatchReviewStore {
  constructor(private readonly context: PgContext) {}

  private get sql(): Sql {
    return this.context.db.sql;
  }

  private async requireSettings(jobId: number, sql: Sql = this.sql): Promise<SettingsRow> {
    requireId(jobId, 'jobId');
    return (await sql.one<SettingsRow>('SELECT * FROM batch_job_settings WHERE job_id = ?', [jobId])) ?? notFound('Batch job', jobId);
  }

  async setup(jobId: number, options: BatchJobOptions, modelLabel: string): Promise<void> {
    requireId(jobId, 'jobId');
    requireText(modelLabel, 'modelLabel', 4096);
    const json = objectJson(options as unknown as JsonObject, 'options');
    await this.context.db.transaction(async (sql) => {
      if (!(await sql.one('SELECT 1 FROM batch_jobs WHERE id = ?', [jobId]))) notFound('Batch job', jobId);
      await sql.run('INSERT INTO batch_job_settings (job_id, options, model_label) VALUES (?, ?, ?)', [jobId, json, modelLabel]);
    });
  }

  async settings(jobId: number): Promise<BatchSettings> {
    const row = await this.requireSettings(jobId);
    return batchSettings(row);
  }

  async setDecoding(jobId: number, decoding: DecodingSettings): Promise<void> {
    await this.requireSettings(jobId);
    await this.sql.run('UPDATE batch_job_settings SET decoding = ? WHERE job_id = ?', [objectJson(decoding as unknown as JsonObject, 'decoding'), jobId]);
  }

  async setTotal(jobId: number, total: number): Promise<void> {
    await this.requireSettings(jobId);
    await this.sql.run('UPDATE batch_job_settings SET total = ? WHERE job_id = ?', [total, jobId]);
  }

  async setOutputs(jobId: number, outputs: BatchOutputPaths): Promise<void> {
    await this.requireSettings(jobId);
    await this.sql.run('UPDATE batch_job_settings SET outputs = ? WHERE job_id = ?', [objectJson(outputs as unknown as JsonObject, 'outputs'), jobId]);
  }

  async record(jobId: number, items: readonly BatchItemInput[], passed: { ignored: number; excluded: number; sidecarPending: boolean }): Promise<void> {
    await this.requireSettings(jobId);
    items.forEach((item, index) => requireText(item.path, `items[${index}].path`, 4096));
    const now = this.context.clock();
    // One row per path: the last item given for a path wins, as with one upsert each.
    const latest = new Map<string, BatchItemInput>();
    for (const item of items) latest.set(item.path, item);
    const unique = [...latest.values()];
    await this.context.db.transaction(async (sql) => {
      if (unique.length > 0) {
        // One statement per batch, however many images: a worker far from the database pays one round trip.
        await sql.run(
          `INSERT INTO batch_results (job_id, image_path, relative_path, outcome, caption, score, confidence, error, sidecar, edited_caption, ordinal, created_at)
           SELECT ?::bigint, r.path, r.relative_path, r.outcome, r.caption, r.score, r.confidence, r.error, r.sidecar, NULL, r.ordinal, ?::bigint
             FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::double precision[], ?::double precision[], ?::text[], ?::text[], ?::bigint[])
               AS r(path, relative_path, outcome, caption, score, confidence, error, sidecar, ordinal)
           ON CONFLICT (job_id, image_path) DO UPDATE SET relative_path = excluded.relative_path, outcome = excluded.outcome,
             ordinal = COALESCE(excluded.ordinal, batch_results.ordinal),
             caption = excluded.caption, score = excluded.score, confidence = excluded.confidence, error = excluded.error,
             sidecar = CASE WHEN excluded.outcome <> 'captioned' THEN batch_results.sidecar
               WHEN excluded.sidecar = 'pending' OR batch_results.sidecar = 'written' THEN 'pending' ELSE excluded.sidecar END,
             edited_caption = NULL, created_at = excluded.created_at`,
          [
            jobId,
            now,
            unique.map((item) => item.path),
            unique.map((item) => item.relativePath),
            unique.map((item) => item.outcome),
            unique.map((item) => item.caption),
            unique.map((item) => finiteOrNull(item.logProb)),
            unique.map((item) => finiteOrNull(item.confidence)),
            unique.map((item) => item.error),
            unique.map((item) => (passed.sidecarPending && item.outcome === 'captioned' ? 'pending' : 'none')),
            unique.map((item) => item.ordinal ?? null),
          ],
        );
      }
      if (passed.ignored || passed.excluded) {
        await sql.run('UPDATE batch_job_settings SET ignored = ignored + ?, excluded = excluded + ? WHERE job_id = ?', [passed.ignored, passed.excluded, jobId]);
      }
    });
  }

  async edit(jobId: number, path: string, caption: string | null): Promise<BatchItem> {
    await this.requireSettings(jobId);
    if (caption !== null) requireText(caption, 'caption', 10_000);
    const changed = await this.sql.run(
      `UPDATE batch_results SET edited_caption = ?, sidecar = CASE WHEN sidecar = 'none' THEN 'none' ELSE 'pending' END
        WHERE job_id = ? AND image_path = ? AND outcome = 'captioned'`,
      [caption, jobId, path],
    );
    if (changed === 0) notFound(`Captioned image in batch job ${jobId}`, path);
    return (await this.itemsAt(jobId, [path]))[0]!;
  }

  async itemsAt(jobId: number, paths: readonly string[]): Promise<BatchItem[]> {
    await this.requireSettings(jobId);
    const rows = await this.sql.all<ItemRow>('SELECT * FROM batch_results WHERE job_id = ? AND image_path = ANY(?)', [jobId, [...paths]]);
    const byPath = new Map(rows.map((row) => [row.image_path, row]));
    return paths.flatMap((path) => {
      const row = byPath.get(path);
      return row ? [batchItem(row)] : [];
    });
  }

  async items(jobId: number, query: BatchItemQuery = {}): Promise<BatchItemsPage> {
    await this.requireSettings(jobId);
    const where = ['job_id = ?'];
    const params: unknown[] = [jobId];
    if (query.failuresOnly) where.push(`outcome = 'failed'`);
    if (query.search && query.search.trim()) {
      where.push(`(strpos(lower(COALESCE(edited_caption, caption, '')), ?) > 0 OR strpos(lower(COALESCE(relative_path, image_path)), ?) > 0)`);
      const needle = query.search.trim().toLowerCase();
      params.push(needle, needle);
    }
    const limit = query.limit === undefined ? null : requireIntegerIn(query.limit, 'limit', 1, 10_000_000);
    const offset = query.offset === undefined ? 0 : requireIntegerIn(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    const clause = where.join(' AND ');
    const total = (await this.sql.value<number>(`SELECT COUNT(*) FROM batch_results WHERE ${clause}`, params)) ?? 0;
    const rows = await this.sql.all<ItemRow>(`SELECT * FROM batch_results WHERE ${clause} ORDER BY ${ORDER[query.sort ?? 'path']} LIMIT ? OFFSET ?`, [
      ...params,
      limit,
      offset,
    ]);
    return { items: rows.map(batchItem), total };
  }

  /** Listing order, as the SQLite store's: results without an ordinal first (by path), then by ordinal. */
  async *pages(jobId: number, pageSize = 1000): AsyncGenerator<BatchItem[]> {
    await this.requireSettings(jobId);
    let after = '';
    for (;;) {
      const rows = await this.sql.all<ItemRow>(
        `SELECT * FROM batch_results WHERE job_id = ? AND ordinal IS NULL AND ${PATH_ORDER} > ? ORDER BY ${PATH_ORDER} LIMIT ?`,
        [jobId, after, pageSize],
      );
      if (rows.length === 0) break;
      yield rows.map(batchItem);
      after = rows.at(-1)!.image_path;
    }
    let afterOrdinal = -1;
    after = '';
    for (;;) {
      const rows = await this.sql.all<ItemRow>(
        `SELECT * FROM batch_results WHERE job_id = ? AND (ordinal > ? OR (ordinal = ? AND ${PATH_ORDER} > ?)) ORDER BY ordinal, ${PATH_ORDER} LIMIT ?`,
        [jobId, afterOrdinal, afterOrdinal, after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map(batchItem);
      afterOrdinal = rows.at(-1)!.ordinal!;
      after = rows.at(-1)!.image_path;
    }
  }

  async pendingSidecars(jobId: number, limit = 1000, paths?: readonly string[]): Promise<PendingSidecar[]> {
    await this.requireSettings(jobId);
    const rows = await this.sql.all<ItemRow>(
      `SELECT * FROM batch_results WHERE job_id = ? AND sidecar = 'pending' AND outcome = 'captioned' ${paths ? 'AND image_path = ANY(?)' : ''} ORDER BY ${PATH_ORDER} LIMIT ?`,
      paths ? [jobId, [...paths], limit] : [jobId, limit],
    );
    return rows.map((row) => ({ item: batchItem(row), writtenCaption: row.sidecar_caption }));
  }

  async markSidecarsWritten(jobId: number, written: readonly { path: string; caption: string | null }[]): Promise<void> {
    await this.requireSettings(jobId);
    await this.context.db.transaction(async (sql) => {
      for (const { path, caption } of written) {
        await sql.run(
          `UPDATE batch_results SET sidecar = 'written', sidecar_caption = COALESCE(?, sidecar_caption) WHERE job_id = ? AND image_path = ? AND outcome = 'captioned'`,
          [caption, jobId, path],
        );
      }
    });
  }

  async markAllSidecarsPending(jobId: number): Promise<void> {
    await this.requireSettings(jobId);
    await this.sql.run(`UPDATE batch_results SET sidecar = 'pending' WHERE job_id = ? AND outcome = 'captioned'`, [jobId]);
  }

  async counts(jobId: number): Promise<Omit<BatchCounts, 'total'> & { sidecars: number }> {
    const settings = await this.requireSettings(jobId);
    const rows = await this.sql.all<{ outcome: BatchItemOutcome; n: number }>('SELECT outcome, COUNT(*) AS n FROM batch_results WHERE job_id = ? GROUP BY outcome', [jobId]);
    const by = (outcome: BatchItemOutcome) => rows.find((row) => row.outcome === outcome)?.n ?? 0;
    const sidecars = (await this.sql.value<number>(`SELECT COUNT(*) FROM batch_results WHERE job_id = ? AND sidecar = 'written'`, [jobId])) ?? 0;
    return { captioned: by('captioned'), skippedExisting: by('skipped'), failed: by('failed'), ignored: settings.ignored, excluded: settings.excluded, sidecars };
  }

  async donePaths(jobId: number): Promise<string[]> {
    await this.requireSettings(jobId);
    return this.sql.column<string>(`SELECT image_path FROM batch_results WHERE job_id = ? ORDER BY ${PATH_ORDER}`, [jobId]);
  }
}
