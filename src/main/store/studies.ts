/**
 * Tuning studies and trials in SQLite. Each study and each trial has a task
 * (a trial's task has its study's task as parent); their statuses follow
 * those tasks (domainSync.ts). Trial numbers are allocated inside the
 * insert, so concurrent trials of one study never share a number; trials
 * keep their intermediate values for pruning.
 */
import { ApiError } from '../../shared/errors';
import type { JsonObject, StudyRecord, StudyStatus, TrialIntermediate, TrialRecord, TrialState } from '../../shared/storeTypes';
import { STUDY_STATUSES, TRIAL_STATES } from '../../shared/storeTypes';
import { commit } from './changes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { objectJson, parseObject } from './json';
import type { StudyInput, StudyStore, TrialResult } from './storage';
import { moveTaskAsFacade, type FacadeTarget } from './taskFacade';
import type { SqliteTaskStore } from './tasks';
import { notFound, requireCount, requireFinite, requireId, requireText } from './validate';

interface StudyRow {
  id: number;
  name: string;
  objective: string;
  direction: 'minimize' | 'maximize';
  search_space: string;
  sampler: string;
  pruner: string;
  base_config: string;
  status: StudyStatus;
  task_id: number | null;
  created_at: number;
  updated_at: number;
}

interface TrialRow {
  id: number;
  study_id: number;
  number: number;
  state: TrialState;
  params: string;
  value: number | null;
  run_id: number | null;
  task_id: number | null;
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
}

/** Trials with their task's heartbeat. */
const SELECT_TRIALS = `SELECT tr.*, tk.heartbeat_at FROM trials tr LEFT JOIN tasks tk ON tk.id = tr.task_id`;

function toStudy(row: StudyRow): StudyRecord {
  return {
    id: row.id,
    name: row.name,
    objective: row.objective,
    direction: row.direction,
    searchSpace: parseObject(row.search_space),
    sampler: row.sampler,
    pruner: row.pruner,
    baseConfig: parseObject(row.base_config),
    status: row.status,
    taskId: row.task_id,
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}

function toTrial(row: TrialRow): TrialRecord {
  return {
    id: row.id,
    studyId: row.study_id,
    number: row.number,
    state: row.state,
    params: parseObject(row.params),
    value: row.value,
    runId: row.run_id,
    taskId: row.task_id,
    error: row.error,
    createdAt: isoTime(row.created_at),
    startedAt: isoTime(row.started_at),
    finishedAt: isoTime(row.finished_at),
    heartbeatAt: isoTime(row.heartbeat_at),
  };
}

/** What a trial state other than `queued` asks of the trial's task. */
function trialTarget(state: Exclude<TrialState, 'queued'>): FacadeTarget {
  return state === 'pruned' ? 'completed' : state;
}

export class SqliteStudyStore implements StudyStore {
  constructor(
    private readonly context: SqliteContext,
    private readonly tasks: SqliteTaskStore,
  ) {}

  private get db() {
    return this.context.db;
  }

  private requireStudy(id: number): StudyRow {
    requireId(id, 'studyId');
    return (this.db.prepare('SELECT * FROM studies WHERE id = ?').get(id) as StudyRow | undefined) ?? notFound('Study', id);
  }

  private readTrial(id: number): TrialRow | undefined {
    return this.db.prepare(`${SELECT_TRIALS} WHERE tr.id = ?`).get(id) as TrialRow | undefined;
  }

  private requireTrial(id: number): TrialRow {
    requireId(id, 'trialId');
    return this.readTrial(id) ?? notFound('Trial', id);
  }

  async create(input: StudyInput): Promise<StudyRecord> {
    const name = requireText(input.name, 'name', 200).trim();
    requireText(input.objective, 'objective', 200);
    if (input.direction !== 'minimize' && input.direction !== 'maximize') {
      throw new ApiError('invalid_request', `direction must be minimize or maximize (got ${String(input.direction)}).`, [
        { path: 'direction', message: 'expected minimize or maximize' },
      ]);
    }
    requireText(input.sampler, 'sampler', 100);
    requireText(input.pruner, 'pruner', 100);
    const searchSpace = objectJson(input.searchSpace, 'searchSpace');
    const baseConfig = objectJson(input.baseConfig, 'baseConfig');
    const now = this.context.clock();
    const id = commit(this.context, (changes) => {
      if (this.db.prepare('SELECT 1 FROM studies WHERE name = ?').get(name)) {
        throw new ApiError('conflict', `A study named "${name}" already exists; choose another name.`);
      }
      const id = this.db
        .prepare(
          `INSERT INTO studies (name, objective, direction, search_space, sampler, pruner, base_config, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id`,
        )
        .pluck()
        .get(name, input.objective, input.direction, searchSpace, input.sampler, input.pruner, baseConfig, now, now) as number;
      // Queued: a study is open until it ends, and whichever executor claims its task runs it.
      const taskId = this.tasks.insertSync(
        { kind: 'study', title: `Tuning study ${name}`, params: input.taskParams ?? { studyId: id }, subject: { type: 'study', id }, placement: input.placement ?? 'any' },
        changes,
      );
      this.db.prepare('UPDATE studies SET task_id = ? WHERE id = ?').run(taskId, id);
      return id;
    });
    return toStudy(this.requireStudy(id));
  }

  async get(id: number): Promise<StudyRecord | null> {
    const row = this.db.prepare('SELECT * FROM studies WHERE id = ?').get(id) as StudyRow | undefined;
    return row ? toStudy(row) : null;
  }

  async getByName(name: string): Promise<StudyRecord | null> {
    const row = this.db.prepare('SELECT * FROM studies WHERE name = ?').get(name.trim()) as StudyRow | undefined;
    return row ? toStudy(row) : null;
  }

  async list(): Promise<StudyRecord[]> {
    return (this.db.prepare('SELECT * FROM studies ORDER BY created_at DESC, id DESC').all() as StudyRow[]).map(toStudy);
  }

  async setStatus(id: number, status: StudyStatus): Promise<StudyRecord> {
    if (!STUDY_STATUSES.includes(status)) {
      throw new ApiError('invalid_request', `status must be one of ${STUDY_STATUSES.join(', ')} (got ${String(status)}).`);
    }
    commit(this.context, (changes) => {
      const study = this.requireStudy(id);
      if (study.status === status) return;
      const target: FacadeTarget = status === 'stopped' ? 'cancelled' : status;
      // Reopening a study queues its task again; an executor claims it.
      moveTaskAsFacade(this.tasks, this.context.taskOwner, { what: `Study ${id} (${study.name})`, from: study.status, to: status, taskId: study.task_id, target, claim: false }, changes);
    });
    return toStudy(this.requireStudy(id));
  }

  /** With its trials, their values and their tasks; runs of its trials are kept. */
  async delete(id: number): Promise<void> {
    commit(this.context, (changes) => {
      const study = this.requireStudy(id);
      const taskIds = this.db.prepare('SELECT task_id FROM trials WHERE study_id = ? AND task_id IS NOT NULL').pluck().all(id) as number[];
      if (study.task_id !== null) taskIds.push(study.task_id);
      this.db.prepare('DELETE FROM studies WHERE id = ?').run(id);
      const remove = this.db.prepare('DELETE FROM tasks WHERE id = ?');
      for (const taskId of taskIds) {
        remove.run(taskId);
        changes.deletedTasks.add(taskId);
      }
    });
  }

  async createTrial(studyId: number, params: JsonObject, state: 'queued' | 'running' = 'running'): Promise<TrialRecord> {
    requireId(studyId, 'studyId');
    const paramsJson = objectJson(params, 'params');
    if (state !== 'queued' && state !== 'running') {
      throw new ApiError('invalid_request', `A new trial starts queued or running, not ${String(state)}.`);
    }
    const id = commit(this.context, (changes) => {
      const study = this.requireStudy(studyId);
      const trial = this.db
        .prepare(
          `INSERT INTO trials (study_id, number, state, params, created_at)
           SELECT ?, COALESCE(MAX(number) + 1, 0), 'queued', ?, ? FROM trials WHERE study_id = ?
           RETURNING id, number`,
        )
        .get(studyId, paramsJson, this.context.clock(), studyId) as { id: number; number: number };
      const taskId = this.tasks.insertSync(
        {
          kind: 'trial',
          title: `Trial ${trial.number} of study ${study.name}`,
          params: { trialId: trial.id, studyId },
          subject: { type: 'trial', id: trial.id },
          parentId: study.task_id,
        },
        changes,
      );
      this.db.prepare('UPDATE trials SET task_id = ? WHERE id = ?').run(taskId, trial.id);
      if (state === 'running') this.tasks.claimByIdSync(taskId, this.context.taskOwner, changes);
      return trial.id;
    });
    return toTrial(this.requireTrial(id));
  }

  async getTrial(id: number): Promise<TrialRecord | null> {
    const row = this.readTrial(id);
    return row ? toTrial(row) : null;
  }

  async startQueuedTrial(id: number, params: JsonObject): Promise<TrialRecord> {
    requireId(id, 'trialId');
    const paramsJson = objectJson(params, 'params');
    commit(this.context, (changes) => {
      const trial = this.requireTrial(id);
      const refuse = () => new ApiError('conflict', `Trial ${id} (number ${trial.number}) is ${trial.state}; only a queued trial can be started.`);
      if (trial.state !== 'queued' || trial.task_id === null) throw refuse();
      if (!this.tasks.claimByIdSync(trial.task_id, this.context.taskOwner, changes)) throw refuse();
      this.db.prepare('UPDATE trials SET params = ? WHERE id = ?').run(paramsJson, id);
    });
    return toTrial(this.requireTrial(id));
  }

  async trials(studyId: number): Promise<TrialRecord[]> {
    this.requireStudy(studyId);
    return (this.db.prepare(`${SELECT_TRIALS} WHERE tr.study_id = ? ORDER BY tr.number`).all(studyId) as TrialRow[]).map(toTrial);
  }

  async setTrialState(id: number, state: TrialState, result: TrialResult = {}): Promise<TrialRecord> {
    requireId(id, 'trialId');
    if (!TRIAL_STATES.includes(state)) {
      throw new ApiError('invalid_request', `state must be one of ${TRIAL_STATES.join(', ')} (got ${String(state)}).`);
    }
    if (result.value != null) requireFinite(result.value, 'value');
    commit(this.context, (changes) => {
      const current = this.requireTrial(id);
      const what = `Trial ${id} (number ${current.number})`;
      if (state !== current.state) {
        if (state === 'queued') throw new ApiError('conflict', `${what} is ${current.state} and cannot become queued again.`);
        const target = trialTarget(state);
        moveTaskAsFacade(
          this.tasks,
          this.context.taskOwner,
          {
            what,
            from: current.state,
            to: state,
            taskId: current.task_id,
            target,
            error: result.error,
            ...(target === 'completed' ? { result: { pruned: state === 'pruned', value: result.value ?? current.value } } : {}),
          },
          changes,
        );
      } else if (result.error !== undefined && state !== 'running' && state !== 'queued') {
        this.db.prepare('UPDATE trials SET error = ? WHERE id = ?').run(result.error, id);
      }
      if (result.value !== undefined) this.db.prepare('UPDATE trials SET value = ? WHERE id = ?').run(result.value, id);
    });
    return toTrial(this.requireTrial(id));
  }

  async attachRun(trialId: number, runId: number): Promise<TrialRecord> {
    requireId(trialId, 'trialId');
    requireId(runId, 'runId');
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) notFound('Run', runId);
      const other = this.db.prepare('SELECT id FROM trials WHERE run_id = ? AND id != ?').pluck().get(runId, trialId) as number | undefined;
      if (other !== undefined) throw new ApiError('conflict', `Run ${runId} already belongs to trial ${other}.`);
      if (this.db.prepare('UPDATE trials SET run_id = ? WHERE id = ?').run(runId, trialId).changes === 0) notFound('Trial', trialId);
      return toTrial(this.requireTrial(trialId));
    })();
  }

  async reportIntermediate(trialId: number, step: number, value: number): Promise<void> {
    requireId(trialId, 'trialId');
    requireCount(step, 'step');
    requireFinite(value, 'value');
    this.db.transaction(() => {
      this.requireTrial(trialId);
      this.db
        .prepare(
          `INSERT INTO trial_intermediate_values (trial_id, step, value) VALUES (?, ?, ?)
           ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value`,
        )
        .run(trialId, step, value);
      // A value reported is a sign of life of whoever runs the trial.
      this.db
        .prepare(`UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM trials WHERE id = ?) AND state IN ('running', 'stopping')`)
        .run(this.context.clock(), trialId);
    }).immediate();
  }

  async intermediates(trialId: number): Promise<TrialIntermediate[]> {
    requireId(trialId, 'trialId');
    this.requireTrial(trialId);
    return this.db
      .prepare('SELECT step, value FROM trial_intermediate_values WHERE trial_id = ? ORDER BY step')
      .all(trialId) as TrialIntermediate[];
  }

  async heartbeat(trialId: number): Promise<void> {
    commit(this.context, () => {
      const trial = this.requireTrial(trialId);
      if (trial.task_id === null) throw new ApiError('conflict', `Trial ${trialId} is ${trial.state} and its task was deleted; it takes no heartbeats.`);
      this.tasks.heartbeatSync(trial.task_id, this.context.taskOwner, null);
    });
  }
}
