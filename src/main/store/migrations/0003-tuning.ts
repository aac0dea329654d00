/**
 * 0003: hyperparameter tuning. A study owns numbered trials; a trial keeps
 * its sampled params, its intermediate values (for pruning) and a heartbeat
 * (for crash recovery), and links to the run that trained it.
 */
import type { Migration } from '../migrate';

export const migration0003: Migration = {
  version: 3,
  name: 'tuning',
  up(db) {
    db.exec(`
      CREATE TABLE studies (
        id           INTEGER PRIMARY KEY,
        name         TEXT    NOT NULL UNIQUE,
        objective    TEXT    NOT NULL,
        direction    TEXT    NOT NULL CHECK (direction IN ('minimize', 'maximize')),
        search_space TEXT    NOT NULL CHECK (json_valid(search_space)),
        sampler      TEXT    NOT NULL,
        pruner       TEXT    NOT NULL,
        base_config  TEXT    NOT NULL CHECK (json_valid(base_config)),
        status       TEXT    NOT NULL CHECK (status IN ('running', 'completed', 'stopped')),
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE trials (
        id           INTEGER PRIMARY KEY,
        study_id     INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
        number       INTEGER NOT NULL CHECK (number >= 0),
        state        TEXT    NOT NULL
                     CHECK (state IN ('queued', 'running', 'completed', 'pruned', 'failed', 'crashed')),
        params       TEXT    NOT NULL CHECK (json_valid(params)),
        value        REAL,
        run_id       INTEGER REFERENCES runs (id) ON DELETE SET NULL,
        error        TEXT,
        owner_host   TEXT,
        owner_pid    INTEGER,
        created_at   INTEGER NOT NULL,
        started_at   INTEGER,
        finished_at  INTEGER,
        heartbeat_at INTEGER,
        UNIQUE (study_id, number)
      ) STRICT;
      CREATE UNIQUE INDEX trials_by_run ON trials (run_id) WHERE run_id IS NOT NULL;
      CREATE INDEX trials_by_state ON trials (state);

      CREATE TABLE trial_intermediate_values (
        trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
        step     INTEGER NOT NULL CHECK (step >= 0),
        value    REAL    NOT NULL,
        PRIMARY KEY (trial_id, step)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};
