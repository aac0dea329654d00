/**
 * 0006: what batch captioning records beyond a job and its per-image
 * results: the job's options (folder, globs, model, outputs), the model's
 * name and the decoding it resolved to, the files it passed over, the output
 * files it wrote; and per image its outcome, relative path, confidence (mean
 * token log-probability, indexed so the least confident come first), a
 * reviewed caption, and whether its caption file is written (and with
 * which caption, so a later review replaces its own line and nothing else).
 */
import type { Migration } from '../migrate';

export const migration0006: Migration = {
  version: 6,
  name: 'batch-review',
  up(db) {
    db.exec(`
      CREATE TABLE batch_job_settings (
        job_id      INTEGER PRIMARY KEY REFERENCES batch_jobs (id) ON DELETE CASCADE,
        options     TEXT    NOT NULL CHECK (json_valid(options)),
        model_label TEXT    NOT NULL,
        decoding    TEXT    CHECK (decoding IS NULL OR json_valid(decoding)),
        ignored     INTEGER NOT NULL DEFAULT 0 CHECK (ignored >= 0),
        excluded    INTEGER NOT NULL DEFAULT 0 CHECK (excluded >= 0),
        total       INTEGER CHECK (total IS NULL OR total >= 0),
        outputs     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(outputs))
      ) STRICT;

      ALTER TABLE batch_results ADD COLUMN relative_path TEXT;
      ALTER TABLE batch_results ADD COLUMN outcome TEXT NOT NULL DEFAULT 'captioned'
        CHECK (outcome IN ('captioned', 'failed', 'skipped'));
      ALTER TABLE batch_results ADD COLUMN confidence REAL;
      ALTER TABLE batch_results ADD COLUMN edited_caption TEXT;
      ALTER TABLE batch_results ADD COLUMN sidecar TEXT NOT NULL DEFAULT 'none'
        CHECK (sidecar IN ('none', 'pending', 'written'));
      ALTER TABLE batch_results ADD COLUMN sidecar_caption TEXT;
      CREATE INDEX batch_results_by_confidence ON batch_results (job_id, confidence);
      CREATE INDEX batch_results_pending_sidecars ON batch_results (job_id) WHERE sidecar = 'pending';
    `);
  },
};
