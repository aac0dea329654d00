/**
 * Tuning studies and trials in PostgreSQL. Trial numbers are allocated under
 * a lock on the study's row, so workers on several machines adding trials
 * to one study at once get 0, 1, 2, ... without gaps or repeats.
 */
import { ApiError } from '../../../shared/errors';
import type { JsonObject, StudyRecord, StudyStatus, TrialIntermediate, TrialRecord, TrialState } from '../../../shared/storeTypes';
import { STUDY_STATUSES, TRIAL_STATES } from '../../../shared/storeTypes';
import { isoTime } from '../clock';
import { objectJson, parseObject } from '../json';
import type { StudyInput, StudyStore, TrialResult } from '../storage';
import { notFound, requireCount, requireFinite, requireId, requireText } from '../validate';
import { commit, type PgContext } from './context';
import type { Sql } from './sql';
import { moveTaskAsFacade, type FacadeTarget } from './taskFacade';
import type { PgTaskStore } from './tasks';

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

const SELECT_TRIALS = `SELECT tr.*, tk.heartbeat_at FROM trials tr LEFT JOIN tasks tk ON tk.id = tr.task_id`;

/** PostgreSQL's code for a unique constraint violated by a concurrent insert. */
const UNIQUE_VIOLATION = '23505';

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

function trialTarget(state: Exclude<TrialState, 'queued'>): FacadeTarget {
  return state === 'pruned' ? 'completed' : state;
}

export class PgStudyStore implements StudyStore {
  constructor(
    private readonly context: PgContext,
    private readonly tasks: PgTaskStore,
  ) {}

  private get sql(): Sql {
    return this.context.db.sql;
  }

  private async requireStudy(sql: Sql, id: number, forUpdate = false): Promise<StudyRow> {
    requireId(id, 'studyId');
    return (await sql.one<StudyRow>(`SELECT * FROM studies WHERE id = ?${forUpdate ? ' FOR UPDATE' : ''}`, [id])) ?? notFound('Study', id);
  }

  private async readTrial(sql: Sql, id: number): Promise<TrialRow | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    return sql.one<TrialRow>(`${SELECT_TRIALS} WHERE tr.id = ?`, [id]);
  }

  private async requireTrial(sql: Sql, id: number): Promise<TrialRow> {
    requireId(id, 'trialId');
    return (await this.readTrial(sql, id)) ?? notFound('Trial', id);
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
    if (input.taskParams !== undefined) objectJson(input.taskParams, 'taskParams');
    const now = this.context.clock();
    const duplicate = () => new ApiError('conflict', `A study named "${name}" already exists; choose another name.`);
    try {
      const id = await commit(this.context, async (sql, changes) => {
        if (await sql.one('SELECT 1 FROM studies WHERE name = ?', [name])) throw duplicate();
        const id = (await sql.value<number>(
          `INSERT INTO studies (name, objective, direction, search_space, sampler, pruner, base_config, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING id`,
          [name, input.objective, input.direction, searchSpace, input.sampler, input.pruner, baseConfig, now, now],
        )) as number;
        const taskId = await this.tasks.insertIn(
          sql,
          { kind: 'study', title: `Tuning study ${name}`, params: input.taskParams ?? { studyId: id }, subject: { type: 'study', id }, placement: input.placement ?? 'any' },
          changes,
        );
        await sql.run('UPDATE studies SET task_id = ? WHERE id = ?', [taskId, id]);
        return id;
      });
      return toStudy(await this.requireStudy(this.sql, id));
    } catch (error) {
      // Two processes creating the same name at once: the unique index decides.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw duplicate();
      throw error;
    }
  }

  async get(id: number): Promise<StudyRecord | null> {
    if (!Number.isSafeInteger(id)) return null;
    const row = await this.sql.one<StudyRow>('SELECT * FROM studies WHERE id = ?', [id]);
    return row ? toStudy(row) : null;
  }

  async getByName(name: string): Promise<StudyRecord | null> {
    const row = await this.sql.one<StudyRow>('SELECT * FROM studies WHERE name = ?', [name.trim()]);
    return row ? toStudy(row) : null;
  }

  async list(): Promise<StudyRecord[]> {
    return (await this.sql.all<StudyRow>('SELECT * FROM studies ORDER BY created_at DESC, id DESC')).map(toStudy);
  }

  async setStatus(id: number, status: StudyStatus): Promise<StudyRecord> {
    if (!STUDY_STATUSES.includes(status)) {
      throw new ApiError('invalid_request', `status must be one of ${STUDY_STATUSES.join(', ')} (got ${String(status)}).`);
    }
    await commit(this.context, async (sql, changes) => {
      const study = await this.requireStudy(sql, id, true);
      if (study.status === status) return;
      const target: FacadeTarget = status === 'stopped' ? 'cancelled' : status;
      await moveTaskAsFacade(
        sql,
        this.tasks,
        this.context.taskOwner,
        { what: `Study ${id} (${study.name})`, from: study.status, to: status, taskId: study.task_id, target, claim: false },
        changes,
      );
    });
    return toStudy(await this.requireStudy(this.sql, id));
  }

  async delete(id: number): Promise<void> {
    await commit(this.context, async (sql, changes) => {
      const study = await this.requireStudy(sql, id, true);
      const taskIds = await sql.column<number>('SELECT task_id FROM trials WHERE study_id = ? AND task_id IS NOT NULL', [id]);
      if (study.task_id !== null) taskIds.push(study.task_id);
      await sql.run('DELETE FROM studies WHERE id = ?', [id]);
      for (const taskId of taskIds) {
        await sql.run('DELETE FROM tasks WHERE id = ?', [taskId]);
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
    const id = await commit(this.context, async (sql, changes) => {
      // The study's row lock serialises numbering: the next MAX + 1 is read
      // only after the previous trial's insert committed.
      const study = await this.requireStudy(sql, studyId, true);
      const trial = (await sql.one<{ id: number; number: number }>(
        `INSERT INTO trials (study_id, number, state, params, created_at)
         VALUES (?, (SELECT COALESCE(MAX(number) + 1, 0) FROM trials WHERE study_id = ?), 'queued', ?, ?)
         RETURNING id, number`,
        [studyId, studyId, paramsJson, this.context.clock()],
      )) as { id: number; number: number };
      const taskId = await this.tasks.insertIn(
        sql,
        {
          kind: 'trial',
          title: `Trial ${trial.number} of study ${study.name}`,
          params: { trialId: trial.id, studyId },
          subject: { type: 'trial', id: trial.id },
          parentId: study.task_id,
        },
        changes,
      );
      await sql.run('UPDATE trials SET task_id = ? WHERE id = ?', [taskId, trial.id]);
      if (state === 'running') await this.tasks.claimByIdIn(sql, taskId, this.context.taskOwner, changes);
      return trial.id;
    });
    return toTrial(await this.requireTrial(this.sql, id));
  }

  async getTrial(id: number): Promise<TrialRecord | null> {
    const row = await this.readTrial(this.sql, id);
    return row ? toTrial(row) : null;
  }

  async startQueuedTrial(id: number, params: JsonObject): Promise<TrialRecord> {
    requireId(id, 'trialId');
    const paramsJson = objectJson(params, 'params');
    await commit(this.context, async (sql, changes) => {
      // The row lock makes two processes starting the same trial take turns; the second finds it running.
      const trial = (await sql.one<TrialRow>('SELECT * FROM trials WHERE id = ? FOR UPDATE', [id])) ?? notFound('Trial', id);
      const refuse = () => new ApiError('conflict', `Trial ${id} (number ${trial.number}) is ${trial.state}; only a queued trial can be started.`);
      if (trial.state !== 'queued' || trial.task_id === null) throw refuse();
      if (!(await this.tasks.claimByIdIn(sql, trial.task_id, this.context.taskOwner, changes))) throw refuse();
      await sql.run('UPDATE trials SET params = ? WHERE id = ?', [paramsJson, id]);
    });
    return toTrial(await this.requireTrial(this.sql, id));
  }

  async trials(studyId: number): Promise<TrialRecord[]> {
    await this.requireStudy(this.sql, studyId);
    return (await this.sql.all<TrialRow>(`${SELECT_TRIALS} WHERE tr.study_id = ? ORDER BY tr.number`, [studyId])).map(toTrial);
  }

  async setTrialState(id: number, state: TrialState, result: TrialResult = {}): Promise<TrialRecord> {
    requireId(id, 'trialId');
    if (!TRIAL_STATES.includes(state)) {
      throw new ApiError('invalid_request', `state must be one of ${TRIAL_STATES.join(', ')} (got ${String(state)}).`);
    }
    if (result.value != null) requireFinite(result.value, 'value');
    await commit(this.context, async (sql, changes) => {
      await sql.run('SELECT 1 FROM trials WHERE id = ? FOR UPDATE', [id]);
      const current = await this.requireTrial(sql, id);
      const what = `Trial ${id} (number ${current.number})`;
      if (state !== current.state) {
        if (state === 'queued') throw new ApiError('conflict', `${what} is ${current.state} and cannot become queued again.`);
        const target = trialTarget(state);
        await moveTaskAsFacade(
          sql,
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
        await sql.run('UPDATE trials SET error = ? WHERE id = ?', [result.error, id]);
      }
      if (result.value !== undefined) await sql.run('UPDATE trials SET value = ? WHERE id = ?', [result.value, id]);
    });
    return toTrial(await this.requireTrial(this.sql, id));
  }

  async attachRun(trialId: number, runId: number): Promise<TrialRecord> {
    requireId(trialId, 'trialId');
    requireId(runId, 'runId');
    await this.context.db.transaction(async (sql) => {
      if (!(await sql.one('SELECT 1 FROM runs WHERE id = ?', [runId]))) notFound('Run', runId);
      const other = await sql.value<number>('SELECT id FROM trials WHERE run_id = ? AND id != ?', [runId, trialId]);
      if (other !== undefined) throw new ApiError('conflict', `Run ${runId} already belongs to trial ${other}.`);
      if ((await sql.run('UPDATE trials SET run_id = ? WHERE id = ?', [runId, trialId])) === 0) notFound('Trial', trialId);
    });
    return toTrial(await this.requireTrial(this.sql, trialId));
  }

  async reportIntermediate(trialId: number, step: number, value: number): Promise<void> {
    requireId(trialId, 'trialId');
    requireCount(step, 'step');
    requireFinite(value, 'value');
    await this.context.db.transaction(async (sql) => {
      await this.requireTrial(sql, trialId);
      await sql.run(
        `INSERT INTO trial_intermediate_values (trial_id, step, value) VALUES (?, ?, ?)
         ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value`,
        [trialId, step, value],
      );
      await sql.run(
        `UPDATE tasks SET heartbeat_at = ? WHERE id = (SELECT task_id FROM trials WHERE id = ?) AND state IN ('running', 'stopping')`,
        [this.context.clock(), trialId],
      );
    });
  }

  async intermediates(trialId: number): Promise<TrialIntermediate[]> {
    requireId(trialId, 'trialId');
    await this.requireTrial(this.sql, trialId);
    return this.sql.all<TrialIntermediate>('SELECT step, value FROM trial_intermediate_values WHERE trial_id = ? ORDER BY step', [trialId]);
  }

  async heartbeat(trialId: number): Promise<void> {
    await commit(this.context, async (sql) => {
      const trial = await this.requireTrial(sql, trialId);
      if (trial.task_id === null) throw new ApiError('conflict', `Trial ${trialId} is ${trial.state} and its task was deleted; it takes no heartbeats.`);
      await this.tasks.heartbeatIn(sql, trial.task_id, this.context.taskOwner, null);
    });
  }
}
