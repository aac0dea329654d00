/**
 * 0002: evaluations. Each keeps the decoding settings and the metric
 * definitions it was computed with, so two scores are only compared when
 * they mean the same thing, plus every image's caption and scores.
 */
import type { Migration } from '../migrate';

export const migration0002: Migration = {
  version: 2,
  name: 'evaluations',
  up(db) {
    db.exec(`
      CREATE TABLE evaluations (
        id                 INTEGER PRIMARY KEY,
        -- An exported model package can be evaluated without its run.
        run_id             INTEGER REFERENCES runs (id) ON DELETE CASCADE,
        checkpoint_id      INTEGER REFERENCES checkpoints (id) ON DELETE SET NULL,
        dataset_id         INTEGER REFERENCES datasets (id) ON DELETE SET NULL,
        split              TEXT    NOT NULL,
        decoding           TEXT    NOT NULL CHECK (json_valid(decoding)),
        metric_definitions TEXT    NOT NULL CHECK (json_valid(metric_definitions)),
        aggregate          TEXT    NOT NULL CHECK (json_valid(aggregate)),
        image_count        INTEGER NOT NULL CHECK (image_count >= 0),
        created_at         INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX evaluations_by_run ON evaluations (run_id, created_at);

      CREATE TABLE evaluation_items (
        evaluation_id      INTEGER NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
        image_id           TEXT    NOT NULL,
        image_path         TEXT,
        caption            TEXT    NOT NULL,
        reference_captions TEXT    NOT NULL CHECK (json_valid(reference_captions)),
        scores             TEXT    NOT NULL CHECK (json_valid(scores)),
        PRIMARY KEY (evaluation_id, image_id)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
