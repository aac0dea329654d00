/**
 * 0004: batch captioning jobs and their per-image results. Results are keyed
 * by image path, so a resumed job skips what it already captioned.
 */
import type { Migration } from '../migrate';

export const migration0004: Migration = {
  version: 4,
  name: 'batch-jobs',
  up(db) {
    db.exec(`
      CREATE TABLE batch_jobs (
        id           INTEGER PRIMARY KEY,
        input_path   TEXT    NOT NULL,
        model_path   TEXT    NOT NULL,
        run_id       INTEGER REFERENCES runs (id) ON DELETE SET NULL,
        decoding     TEXT    NOT NULL CHECK (json_valid(decoding)),
        status       TEXT    NOT NULL
                     CHECK (status IN ('queued', 'running', 'completed', 'stopped', 'failed', 'crashed')),
        total        INTEGER NOT NULL CHECK (total >= 0),
        error        TEXT,
        owner_host   TEXT,
        owner_pid    INTEGER,
        created_at   INTEGER NOT NULL,
        started_at   INTEGER,
        finished_at  INTEGER,
        heartbeat_at INTEGER
      ) STRICT;
      CREATE INDEX batch_jobs_by_status ON batch_jobs (status);

      CREATE TABLE batch_results (
        job_id     INTEGER NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
        image_path TEXT    NOT NULL,
        caption    TEXT,
        score      REAL,
        error      TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (job_id, image_path)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
