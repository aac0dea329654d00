/**
 * Tuning studies and trials in SQLite. Trial numbers are allocated inside the
 * insert, so concurrent trials of one study never share a number; trials keep
 * their intermediate values for pruning and a heartbeat for crash recovery.
 */
import { ApiError } from '../../shared/errors';
import type { JsonObject, StudyRecord, StudyStatus, TrialIntermediate, TrialRecord, TrialState } from '../../shared/storeTypes';
import { STUDY_STATUSES, TRIAL_STATES } from '../../shared/storeTypes';
import { isoTime } from './clock';
import type { SqliteContext } from './context';
import { objectJson, parseObject } from './json';
import type { StudyInput, StudyStore, TrialResult } from './storage';
import { checkTrialTransition } from './transitions';
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
  error: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  heartbeat_at: number | null;
}

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
    error: row.error,
    createdAt: isoTime(row.created_at),
    startedAt: isoTime(row.started_at),
    finishedAt: isoTime(row.finished_at),
    heartbeatAt: isoTime(row.heartbeat_at),
  };
}

const FINISHED_TRIAL_STATES: readonly TrialState[] = ['completed', 'pruned', 'failed', 'crashed'];

export class SqliteStudyStore implements StudyStore {
  constructor(private readonly context: SqliteContext) {}

  private get db() {
    return this.context.db;
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
    return this.db.transaction(() => {
      if (this.db.prepare('SELECT 1 FROM studies WHERE name = ?').get(name)) {
        throw new ApiError('conflict', `A study named "${name}" already exists; choose another name.`);
      }
      const row = this.db
        .prepare(
          `INSERT INTO studies (name, objective, direction, search_space, sampler, pruner, base_config, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING *`,
        )
        .get(name, input.objective, input.direction, searchSpace, input.sampler, input.pruner, baseConfig, now, now) as StudyRow;
      return toStudy(row);
    })();
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
    requireId(id, 'studyId');
    if (!STUDY_STATUSES.includes(status)) {
      throw new ApiError('invalid_request', `status must be one of ${STUDY_STATUSES.join(', ')} (got ${String(status)}).`);
    }
    const row = this.db
      .prepare('UPDATE studies SET status = ?, updated_at = ? WHERE id = ? RETURNING *')
      .get(status, this.context.clock(), id) as StudyRow | undefined;
    return row ? toStudy(row) : notFound('Study', id);
  }

  async delete(id: number): Promise<void> {
    requireId(id, 'studyId');
    if (this.db.prepare('DELETE FROM studies WHERE id = ?').run(id).changes === 0) notFound('Study', id);
  }

  async createTrial(studyId: number, params: JsonObject, state: 'queued' | 'running' = 'running'): Promise<TrialRecord> {
    requireId(studyId, 'studyId');
    const paramsJson = objectJson(params, 'params');
    if (state !== 'queued' && state !== 'running') {
      throw new ApiError('invalid_request', `A new trial starts queued or running, not ${String(state)}.`);
    }
    const now = this.context.clock();
    const running = state === 'running';
    const { host, pid } = this.context.owner;
    const row = this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM studies WHERE id = ?').get(studyId)) notFound('Study', studyId);
      return this.db
        .prepare(
          `INSERT INTO trials (study_id, number, state, params, owner_host, owner_pid, created_at, started_at, heartbeat_at)
           SELECT ?, COALESCE(MAX(number) + 1, 0), ?, ?, ?, ?, ?, ?, ? FROM trials WHERE study_id = ?
           RETURNING *`,
        )
        .get(studyId, state, paramsJson, host, pid, now, running ? now : null, running ? now : null, studyId) as TrialRow;
    }).immediate();
    return toTrial(row);
  }

  async getTrial(id: number): Promise<TrialRecord | null> {
    const row = this.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as TrialRow | undefined;
    return row ? toTrial(row) : null;
  }

  async trials(studyId: number): Promise<TrialRecord[]> {
    requireId(studyId, 'studyId');
    if (!this.db.prepare('SELECT 1 FROM studies WHERE id = ?').get(studyId)) notFound('Study', studyId);
    return (this.db.prepare('SELECT * FROM trials WHERE study_id = ? ORDER BY number').all(studyId) as TrialRow[]).map(toTrial);
  }

  async setTrialState(id: number, state: TrialState, result: TrialResult = {}): Promise<TrialRecord> {
    requireId(id, 'trialId');
    if (!TRIAL_STATES.includes(state)) {
      throw new ApiError('invalid_request', `state must be one of ${TRIAL_STATES.join(', ')} (got ${String(state)}).`);
    }
    if (result.value != null) requireFinite(result.value, 'value');
    return this.db.transaction(() => {
      const current = this.db.prepare('SELECT * FROM trials WHERE id = ?').get(id) as TrialRow | undefined;
      if (!current) notFound('Trial', id);
      checkTrialTransition(`Trial ${id} (number ${current.number})`, current.state, state);
      const now = this.context.clock();
      const sets = ['state = ?'];
      const params: unknown[] = [state];
      if (state === 'running' && current.state !== 'running') {
        const { host, pid } = this.context.owner;
        sets.push('owner_host = ?', 'owner_pid = ?', 'heartbeat_at = ?', 'started_at = COALESCE(started_at, ?)', 'finished_at = NULL');
        params.push(host, pid, now, now);
      }
      if (FINISHED_TRIAL_STATES.includes(state) && state !== current.state) {
        sets.push('finished_at = ?');
        params.push(now);
      }
      if (result.value !== undefined) {
        sets.push('value = ?');
        params.push(result.value);
      }
      if (result.error !== undefined) {
        sets.push('error = ?');
        params.push(result.error);
      }
      const row = this.db.prepare(`UPDATE trials SET ${sets.join(', ')} WHERE id = ? RETURNING *`).get(...params, id) as TrialRow;
      return toTrial(row);
    })();
  }

  async attachRun(trialId: number, runId: number): Promise<TrialRecord> {
    requireId(trialId, 'trialId');
    requireId(runId, 'runId');
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM runs WHERE id = ?').get(runId)) notFound('Run', runId);
      const other = this.db.prepare('SELECT id FROM trials WHERE run_id = ? AND id != ?').pluck().get(runId, trialId) as number | undefined;
      if (other !== undefined) throw new ApiError('conflict', `Run ${runId} already belongs to trial ${other}.`);
      const row = this.db.prepare('UPDATE trials SET run_id = ? WHERE id = ? RETURNING *').get(runId, trialId) as TrialRow | undefined;
      return row ? toTrial(row) : notFound('Trial', trialId);
    })();
  }

  async reportIntermediate(trialId: number, step: number, value: number): Promise<void> {
    requireId(trialId, 'trialId');
    requireCount(step, 'step');
    requireFinite(value, 'value');
    this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM trials WHERE id = ?').get(trialId)) notFound('Trial', trialId);
      this.db
        .prepare(
          `INSERT INTO trial_intermediate_values (trial_id, step, value) VALUES (?, ?, ?)
           ON CONFLICT (trial_id, step) DO UPDATE SET value = excluded.value`,
        )
        .run(trialId, step, value);
      this.db.prepare(`UPDATE trials SET heartbeat_at = ? WHERE id = ? AND state = 'running'`).run(this.context.clock(), trialId);
    })();
  }

  async intermediates(trialId: number): Promise<TrialIntermediate[]> {
    requireId(trialId, 'trialId');
    if (!this.db.prepare('SELECT 1 FROM trials WHERE id = ?').get(trialId)) notFound('Trial', trialId);
    return this.db
      .prepare('SELECT step, value FROM trial_intermediate_values WHERE trial_id = ? ORDER BY step')
      .all(trialId) as TrialIntermediate[];
  }

  async heartbeat(trialId: number): Promise<void> {
    requireId(trialId, 'trialId');
    const result = this.db.prepare('UPDATE trials SET heartbeat_at = ? WHERE id = ?').run(this.context.clock(), trialId);
    if (result.changes === 0) notFound('Trial', trialId);
  }
}
