/**
 * 0001: datasets, runs and what a training run writes while it trains:
 * metrics, checkpoints, artifacts and sample captions.
 *
 * Conventions for every table: STRICT types; times are INTEGER milliseconds
 * since 1970 (UTC); JSON columns are TEXT checked with json_valid; file paths
 * are stored relative to the data directory so the folder can be moved.
 */
import type { Migration } from '../migrate';

export const migration0001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      CREATE TABLE datasets (
        id         INTEGER PRIMARY KEY,
        name       TEXT    NOT NULL,
        path       TEXT    NOT NULL UNIQUE,
        format     TEXT    NOT NULL,
        stats      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(stats)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE runs (
        id           INTEGER PRIMARY KEY,
        name         TEXT    NOT NULL,
        status       TEXT    NOT NULL
                     CHECK (status IN ('queued', 'running', 'completed', 'stopped', 'failed', 'crashed')),
        config       TEXT    NOT NULL CHECK (json_valid(config)),
        dataset_id   INTEGER REFERENCES datasets (id) ON DELETE SET NULL,
        backend      TEXT,
        machine      TEXT,
        -- The workbench process that owns the run while it is queued or
        -- running; crash recovery asks whether it is still alive.
        owner_host   TEXT,
        owner_pid    INTEGER,
        notes        TEXT    NOT NULL DEFAULT '',
        tags         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
        error        TEXT,
        created_at   INTEGER NOT NULL,
        started_at   INTEGER,
        finished_at  INTEGER,
        heartbeat_at INTEGER
      ) STRICT;
      CREATE INDEX runs_by_status ON runs (status);
      CREATE INDEX runs_by_created ON runs (created_at DESC, id DESC);

      -- One value per (run, key, step): logging a step again replaces it,
      -- which makes appends idempotent and resumed runs overwrite cleanly.
      CREATE TABLE metrics (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key    TEXT    NOT NULL,
        step   INTEGER NOT NULL CHECK (step >= 0),
        epoch  INTEGER NOT NULL CHECK (epoch >= 0),
        value  REAL    NOT NULL,
        time   INTEGER NOT NULL,
        PRIMARY KEY (run_id, key, step)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE checkpoints (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        epoch      INTEGER NOT NULL CHECK (epoch >= 0),
        step       INTEGER NOT NULL CHECK (step >= 0),
        path       TEXT    NOT NULL,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        metrics    TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metrics)),
        is_best    INTEGER NOT NULL DEFAULT 0 CHECK (is_best IN (0, 1)),
        created_at INTEGER NOT NULL,
        UNIQUE (run_id, path)
      ) STRICT;
      CREATE INDEX checkpoints_by_run ON checkpoints (run_id, step);

      CREATE TABLE artifacts (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        kind       TEXT    NOT NULL,
        name       TEXT    NOT NULL,
        path       TEXT    NOT NULL,
        size_bytes INTEGER NOT NULL DEFAULT 0,
        meta       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(meta)),
        created_at INTEGER NOT NULL,
        UNIQUE (run_id, path)
      ) STRICT;

      CREATE TABLE sample_captions (
        id                 INTEGER PRIMARY KEY,
        run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        epoch              INTEGER NOT NULL CHECK (epoch >= 0),
        step               INTEGER NOT NULL CHECK (step >= 0),
        image_id           TEXT    NOT NULL,
        image_path         TEXT,
        caption            TEXT    NOT NULL,
        reference_captions TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(reference_captions)),
        created_at         INTEGER NOT NULL,
        UNIQUE (run_id, epoch, image_id)
      ) STRICT;
    `);
  },
};
