/**
 * 0005: one task table for every long piece of work. Runs, batch jobs,
 * studies and trials each point at their task (`task_id`); the lifecycle
 * columns they used to keep themselves (owning process, heartbeat) move to
 * the task, so there is one owner check and one crash check instead of three.
 *
 * Existing rows get a task whose state follows from their old status:
 * queued → queued, completed → completed, failed → failed, crashed → crashed,
 * stopped → cancelled, a pruned trial → completed with `{"pruned": true}`,
 * and anything still `running` → crashed, with a reason naming its old
 * process: nothing can still be working on it across an upgrade, and a
 * crashed task can be resumed. The domain row's status is then rewritten
 * from its task (a running run becomes crashed), exactly as the store keeps
 * it in step from now on (see src/main/store/domainSync.ts).
 */
import type { Migration } from '../migrate';

/** Task state of a run's or batch job's old status. */
const RUN_TASK_STATE = `CASE status
  WHEN 'stopped' THEN 'cancelled'
  WHEN 'running' THEN 'crashed'
  ELSE status END`;

/** Why a row that was running when the database was upgraded is now crashed. */
const upgradeReason = (when: string) => `'It was running when the database was upgraded to schema 5 (process '
  || COALESCE(owner_pid, '?') || ' on ' || COALESCE(owner_host, 'an unknown host')
  || ', last heartbeat ' || COALESCE(strftime('%Y-%m-%dT%H:%M:%fZ', ${when} / 1000.0, 'unixepoch'), 'never')
  || '); nothing works on it any more. What it logged is kept; it can be resumed.'`;

export const migration0005: Migration = {
  version: 5,
  name: 'tasks',
  up(db) {
    const now = Date.now();
    db.exec(`
      CREATE TABLE tasks (
        id           INTEGER PRIMARY KEY,
        kind         TEXT    NOT NULL
                     CHECK (kind IN ('training', 'evaluation', 'synthesis', 'import', 'batch', 'study', 'trial')),
        title        TEXT    NOT NULL,
        state        TEXT    NOT NULL
                     CHECK (state IN ('queued', 'running', 'stopping', 'completed', 'failed', 'cancelled', 'crashed')),
        params       TEXT    NOT NULL CHECK (json_valid(params)),
        -- The domain row it works for (informational: the UI links to it).
        subject_type TEXT    CHECK (subject_type IN ('run', 'evaluation', 'dataset', 'batchJob', 'study', 'trial')),
        subject_id   INTEGER,
        parent_id    INTEGER REFERENCES tasks (id) ON DELETE SET NULL,
        retry_of     INTEGER REFERENCES tasks (id) ON DELETE SET NULL,
        -- Who runs it: set by a claim, kept after it ends (who ran it last).
        owner_host   TEXT,
        owner_pid    INTEGER,
        owner_worker TEXT,
        heartbeat_at INTEGER,
        progress     TEXT    CHECK (progress IS NULL OR json_valid(progress)),
        result       TEXT    CHECK (result IS NULL OR json_valid(result)),
        error        TEXT,
        attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        created_at   INTEGER NOT NULL,
        started_at   INTEGER,
        finished_at  INTEGER,
        CHECK ((subject_type IS NULL) = (subject_id IS NULL)),
        -- A running or stopping task always has an owner.
        CHECK (state NOT IN ('running', 'stopping') OR (owner_host IS NOT NULL AND owner_pid IS NOT NULL AND owner_worker IS NOT NULL))
      ) STRICT;
      -- Claiming takes the oldest queued task; the queue position counts along the same index.
      CREATE INDEX tasks_queue ON tasks (state, created_at, id);
      CREATE INDEX tasks_by_created ON tasks (created_at DESC, id DESC);
      CREATE INDEX tasks_by_subject ON tasks (subject_type, subject_id);
      CREATE INDEX tasks_by_parent ON tasks (parent_id) WHERE parent_id IS NOT NULL;

      ALTER TABLE runs ADD COLUMN task_id INTEGER REFERENCES tasks (id) ON DELETE SET NULL;
      ALTER TABLE batch_jobs ADD COLUMN task_id INTEGER REFERENCES tasks (id) ON DELETE SET NULL;
      ALTER TABLE studies ADD COLUMN task_id INTEGER REFERENCES tasks (id) ON DELETE SET NULL;
      ALTER TABLE trials ADD COLUMN task_id INTEGER REFERENCES tasks (id) ON DELETE SET NULL;
    `);

    // Runs: one training task each.
    db.prepare(
      `INSERT INTO tasks (kind, title, state, params, subject_type, subject_id, owner_host, owner_pid, owner_worker,
                          heartbeat_at, error, attempts, created_at, started_at, finished_at)
       SELECT 'training', 'Training run ' || id || ' (' || name || ')', ${RUN_TASK_STATE}, json_object('runId', id), 'run', id,
              owner_host, owner_pid, CASE WHEN owner_pid IS NULL THEN NULL ELSE 'main' END,
              heartbeat_at,
              CASE WHEN status = 'running' THEN ${upgradeReason('heartbeat_at')} ELSE error END,
              CASE WHEN started_at IS NULL THEN 0 ELSE 1 END,
              created_at, started_at,
              CASE WHEN status = 'running' THEN ? WHEN status = 'queued' THEN NULL ELSE finished_at END
         FROM runs ORDER BY id`,
    ).run(now);
    db.exec(`UPDATE runs SET task_id = (SELECT t.id FROM tasks t WHERE t.subject_type = 'run' AND t.subject_id = runs.id)`);

    // Batch jobs: one batch task each.
    db.prepare(
      `INSERT INTO tasks (kind, title, state, params, subject_type, subject_id, owner_host, owner_pid, owner_worker,
                          heartbeat_at, error, attempts, created_at, started_at, finished_at)
       SELECT 'batch', 'Captioning ' || input_path, ${RUN_TASK_STATE}, json_object('jobId', id), 'batchJob', id,
              owner_host, owner_pid, CASE WHEN owner_pid IS NULL THEN NULL ELSE 'main' END,
              heartbeat_at,
              CASE WHEN status = 'running' THEN ${upgradeReason('heartbeat_at')} ELSE error END,
              CASE WHEN started_at IS NULL THEN 0 ELSE 1 END,
              created_at, started_at,
              CASE WHEN status = 'running' THEN ? WHEN status = 'queued' THEN NULL ELSE finished_at END
         FROM batch_jobs ORDER BY id`,
    ).run(now);
    db.exec(`UPDATE batch_jobs SET task_id = (SELECT t.id FROM tasks t WHERE t.subject_type = 'batchJob' AND t.subject_id = batch_jobs.id)`);

    // Studies had no owner or heartbeat: an open one is treated like a running row.
    db.prepare(
      `INSERT INTO tasks (kind, title, state, params, subject_type, subject_id, error, attempts, created_at, started_at, finished_at)
       SELECT 'study', 'Tuning study ' || name,
              CASE status WHEN 'running' THEN 'crashed' WHEN 'stopped' THEN 'cancelled' ELSE status END,
              json_object('studyId', id), 'study', id,
              CASE WHEN status = 'running'
                   THEN 'It was open when the database was upgraded to schema 5; nothing works on it any more. Its trials are kept; it can be resumed.'
                   ELSE NULL END,
              1, created_at, created_at, CASE WHEN status = 'running' THEN ? ELSE updated_at END
         FROM studies ORDER BY id`,
    ).run(now);
    db.exec(`UPDATE studies SET task_id = (SELECT t.id FROM tasks t WHERE t.subject_type = 'study' AND t.subject_id = studies.id)`);

    // Trials: a task each, under their study's task.
    db.prepare(
      `INSERT INTO tasks (kind, title, state, params, subject_type, subject_id, parent_id, owner_host, owner_pid, owner_worker,
                          heartbeat_at, result, error, attempts, created_at, started_at, finished_at)
       SELECT 'trial', 'Trial ' || number || ' of study ' || study_id,
              CASE state WHEN 'pruned' THEN 'completed' WHEN 'running' THEN 'crashed' ELSE state END,
              json_object('trialId', id, 'studyId', study_id), 'trial', id,
              (SELECT s.task_id FROM studies s WHERE s.id = trials.study_id),
              owner_host, owner_pid, CASE WHEN owner_pid IS NULL THEN NULL ELSE 'main' END,
              heartbeat_at,
              CASE WHEN state IN ('completed', 'pruned') THEN json_object('pruned', json(CASE WHEN state = 'pruned' THEN 'true' ELSE 'false' END), 'value', value) ELSE NULL END,
              CASE WHEN state = 'running' THEN ${upgradeReason('heartbeat_at')} ELSE error END,
              CASE WHEN started_at IS NULL THEN 0 ELSE 1 END,
              created_at, started_at,
              CASE WHEN state = 'running' THEN ? WHEN state = 'queued' THEN NULL ELSE finished_at END
         FROM trials ORDER BY id`,
    ).run(now);
    db.exec(`UPDATE trials SET task_id = (SELECT t.id FROM tasks t WHERE t.subject_type = 'trial' AND t.subject_id = trials.id)`);

    // Queued work has no owner any more: any executor may claim it.
    db.exec(`UPDATE tasks SET owner_host = NULL, owner_pid = NULL, owner_worker = NULL, heartbeat_at = NULL WHERE state = 'queued'`);

    // Domain statuses from their tasks (what the store keeps in step from now on).
    db.exec(`
      UPDATE runs SET status = 'crashed', finished_at = t.finished_at, error = t.error
        FROM tasks t WHERE t.id = runs.task_id AND runs.status = 'running';
      UPDATE batch_jobs SET status = 'crashed', finished_at = t.finished_at, error = t.error
        FROM tasks t WHERE t.id = batch_jobs.task_id AND batch_jobs.status = 'running';
      UPDATE trials SET state = 'crashed', finished_at = t.finished_at, error = t.error
        FROM tasks t WHERE t.id = trials.task_id AND trials.state = 'running';
      UPDATE studies SET status = 'stopped', updated_at = ${now} WHERE status = 'running';
    `);

    // Trials may now also be cancelled (their study was stopped). SQLite cannot
    // alter a CHECK, so the trials table is rebuilt below with the new list;
    // nothing references trials except its own intermediate values, which are
    // copied across with it.
    db.exec(`
      CREATE TABLE trials_new (
        id           INTEGER PRIMARY KEY,
        study_id     INTEGER NOT NULL REFERENCES studies (id) ON DELETE CASCADE,
        number       INTEGER NOT NULL CHECK (number >= 0),
        state        TEXT    NOT NULL
                     CHECK (state IN ('queued', 'running', 'completed', 'pruned', 'failed', 'cancelled', 'crashed')),
        params       TEXT    NOT NULL CHECK (json_valid(params)),
        value        REAL,
        run_id       INTEGER REFERENCES runs (id) ON DELETE SET NULL,
        task_id      INTEGER REFERENCES tasks (id) ON DELETE SET NULL,
        error        TEXT,
        created_at   INTEGER NOT NULL,
        started_at   INTEGER,
        finished_at  INTEGER,
        UNIQUE (study_id, number)
      ) STRICT;
      INSERT INTO trials_new (id, study_id, number, state, params, value, run_id, task_id, error, created_at, started_at, finished_at)
        SELECT id, study_id, number, state, params, value, run_id, task_id, error, created_at, started_at, finished_at FROM trials;
      CREATE TEMP TABLE trial_values_copy AS SELECT * FROM trial_intermediate_values;
      DROP TABLE trial_intermediate_values;
      DROP TABLE trials;
      ALTER TABLE trials_new RENAME TO trials;
      CREATE UNIQUE INDEX trials_by_run ON trials (run_id) WHERE run_id IS NOT NULL;
      CREATE INDEX trials_by_state ON trials (state);
      CREATE TABLE trial_intermediate_values (
        trial_id INTEGER NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
        step     INTEGER NOT NULL CHECK (step >= 0),
        value    REAL    NOT NULL,
        PRIMARY KEY (trial_id, step)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO trial_intermediate_values SELECT trial_id, step, value FROM trial_values_copy;
      DROP TABLE trial_values_copy;

      ALTER TABLE runs DROP COLUMN owner_host;
      ALTER TABLE runs DROP COLUMN owner_pid;
      ALTER TABLE runs DROP COLUMN heartbeat_at;
      ALTER TABLE batch_jobs DROP COLUMN owner_host;
      ALTER TABLE batch_jobs DROP COLUMN owner_pid;
      ALTER TABLE batch_jobs DROP COLUMN heartbeat_at;

      CREATE INDEX runs_by_task ON runs (task_id);
      CREATE INDEX batch_jobs_by_task ON batch_jobs (task_id);
      CREATE INDEX studies_by_task ON studies (task_id);
      CREATE INDEX trials_by_task ON trials (task_id);
    `);
  },
};
