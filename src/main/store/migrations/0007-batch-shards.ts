/**
 * 0007: batch jobs split into shards that any process sharing the store may
 * claim. A shard is a run of consecutive images of the job's listing (their
 * paths relative to the folder, in listing order) with its own task; the
 * listing is planned lazily, so the job's settings keep where planning got
 * to (entries of the listing consumed, ordinals given out, finished or not).
 * Each result keeps its image's ordinal in the listing, so the merged
 * outputs come out in listing order whichever shard finished first.
 */
import type { Migration } from '../migrate';

export const migration0007: Migration = {
  version: 7,
  name: 'batch-shards',
  up(db) {
    db.exec(`
      CREATE TABLE batch_shards (
        job_id        INTEGER NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
        shard         INTEGER NOT NULL CHECK (shard >= 0),
        task_id       INTEGER REFERENCES tasks (id) ON DELETE SET NULL,
        first_ordinal INTEGER NOT NULL CHECK (first_ordinal >= 0),
        size          INTEGER NOT NULL CHECK (size >= 0),
        images        TEXT    NOT NULL CHECK (json_valid(images)),
        PRIMARY KEY (job_id, shard)
      ) STRICT;
      CREATE INDEX batch_shards_by_task ON batch_shards (task_id);

      ALTER TABLE batch_job_settings ADD COLUMN plan_listed INTEGER NOT NULL DEFAULT 0 CHECK (plan_listed >= 0);
      ALTER TABLE batch_job_settings ADD COLUMN plan_ordinals INTEGER NOT NULL DEFAULT 0 CHECK (plan_ordinals >= 0);
      ALTER TABLE batch_job_settings ADD COLUMN planned INTEGER NOT NULL DEFAULT 0 CHECK (planned IN (0, 1));

      ALTER TABLE batch_results ADD COLUMN ordinal INTEGER;
      CREATE INDEX batch_results_by_ordinal ON batch_results (job_id, ordinal);
    `);
  },
};
