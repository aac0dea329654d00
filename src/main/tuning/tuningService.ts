/**
 * The tuning domain in the main process: runs studies. A study is a task of
 * kind `study` (control lane: it only coordinates); each trial is a task of
 * kind `trial` whose training run is an ordinary run, trained by the training
 * service's task wherever a compute slot is free (here or on a worker
 * sharing the store).
 *
 * The study task loops until the study has its number of finished trials (or
 * the sampler has no new point, or it is stopped):
 *   1. follow each running trial: copy the objective's new per-epoch values
 *      from its run's metrics into the trial's intermediate values, ask the
 *      pruner after each one, and when it says so mark the trial pruned and
 *      stop its run; when the run has ended, finish the trial: completed with
 *      the best value of the objective over its epochs, cancelled (run
 *      stopped by someone) or failed;
 *   2. while fewer than `parallel` trials run, ask the sampler for the next
 *      trial's parameters (with the running trials visible, so TPE's constant
 *      liar spreads them out), lay them over the study's base config and
 *      start the trial's run;
 *   3. wait `pollMs` and repeat.
 * Everything it needs is in the store, so a study resumed after a crash or a
 * stop carries on (crash rule `resume`). A trial whose process died (state
 * `crashed`, set by recovery) is retried once, as trial tasks' crash rule
 * says: a new trial with the same parameters stands in for it and the
 * crashed one is marked "retried as trial N"; it does not count against the
 * budget. A crashed retry is not retried again. A trial that crashed only
 * because the process running the study died, while its run trains on (or
 * finished) elsewhere, is taken back instead when the study resumes.
 * Enqueued trials (`enqueue`) wait, queued and without a run, and start
 * before sampled ones. Pruning decisions come from the stored trials alone
 * (storedPruning.ts): successive-halving rungs are read from the stored
 * intermediate values and 'auto' resources from the first trial to
 * complete, so a restarted study decides as before.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import { ApiError } from '../../shared/errors';
import { mergeConfig, runConfigSchema, type RunConfig } from '../../shared/runConfig';
import type { StudyBudget, StudyDetails, StudyExport, StudyOverview } from '../../shared/contract/tuning';
import type { JsonObject, StudyRecord, TrialRecord as StoredTrial } from '../../shared/storeTypes';
import type { Logger } from '../core/logger';
import { contains, defaultSearchSpace, describeDistribution, ImportanceCache, paramsToOverrides, searchSpaceToJson, type ImportanceResult, type Params, type ParamValue } from '../lib/tuning';
import type { ExperimentStore } from '../store';
import type { TaskPlacement } from '../../shared/taskTypes';
import type { TaskRuntime } from '../tasks/runtime';
import { StoppedEarly, type TaskContext, type TaskHandler } from '../tasks/types';
import type { TrainingService } from '../training/trainingService';
import { studyExportDocument } from './studyExport';
import { StoredPruning, type StoredTrialRow } from './storedPruning';
import { studySettings, type StudySettings } from './studySettings';
import { toStudyView } from './studyView';

const studyTaskParams = z
  .object({
    studyId: z.number().int().positive().optional(),
    /** Names are unique and known before the study row exists, so a new study's task can carry its budget. */
    studyName: z.string().min(1).optional(),
    /** Finished trials (completed, pruned or failed) the study runs to. */
    trials: z.number().int().min(1).max(100_000).default(20),
    /** Trials in progress at once. */
    parallel: z.number().int().min(1).max(256).default(1),
    /** Seconds after the study's creation after which no new trial starts (running ones finish). */
    timeoutSeconds: z.number().positive().optional(),
  })
  .strict()
  .refine((p) => p.studyId !== undefined || p.studyName !== undefined, { message: 'studyId or studyName is required' });
export type StudyTaskParams = z.output<typeof studyTaskParams>;

export interface NewStudy {
  name: string;
  objective: string;
  direction: 'minimize' | 'maximize';
  /** JSON search space; the RunConfig default space when left out. */
  searchSpace?: JsonObject;
  /** A sampler name or `{ name, options }`; TPE by default. */
  sampler?: string | { name: string; options?: JsonObject };
  pruner?: string | { name: string; options?: JsonObject };
  /** What every trial's run config starts from (must name a dataset). */
  baseConfig: JsonObject;
  trials?: number;
  parallel?: number;
  /** Budget in seconds from creation: no trial starts after it. */
  timeoutSeconds?: number;
  /** `workers`: the study and its trials' runs are queued for `captioner worker` processes only. */
  placement?: TaskPlacement;
}

/**
 * Why a study ended: its trial budget was spent, its time limit was reached,
 * or its sampler had no new point (a finished grid).
 */
export type StudyEndReason = 'trials' | 'timeout' | 'exhausted';

export interface StudySummary extends JsonObject {
  studyId: number;
  /** Why it ended on its own; null while running or when it was stopped. */
  reason: StudyEndReason | null;
  finished: number;
  completed: number;
  pruned: number;
  failed: number;
  best: { trialNumber: number; value: number; params: JsonObject } | null;
}

export interface TuningServiceDeps {
  store: ExperimentStore;
  tasks: TaskRuntime;
  training: TrainingService;
  logger: Logger;
  /** How often a study looks at its trials' runs. */
  pollMs?: number;
}

const FINISHED_RUN = new Set(['completed', 'stopped', 'failed', 'crashed']);
const ACTIVE_TRIAL = new Set(['queued', 'running']);
/** An enqueued trial that has not started: queued, without a run. Its params are the fixed ones only. */
export const isWaiting = (trial: StoredTrial): boolean => trial.state === 'queued' && trial.runId === null;
/** A trial being evaluated: started (it has, or is getting, a run) and not finished. */
const isInFlight = (trial: StoredTrial): boolean => ACTIVE_TRIAL.has(trial.state) && !isWaiting(trial);

const specText = (spec: NewStudy['sampler']): string | undefined => (spec === undefined ? undefined : typeof spec === 'string' ? spec : JSON.stringify(spec));

export class TuningService {
  private readonly importanceCaches = new Map<number, ImportanceCache>();

  constructor(private readonly deps: TuningServiceDeps) {}

  /** The task handler this domain contributes to the runtime. */
  studyTask(): TaskHandler<StudyTaskParams, JsonObject> {
    return {
      kind: 'study',
      parse: (params) => studyTaskParams.parse(params),
      run: (context) => this.runStudy(context),
      // Everything is in the store: a crashed study carries on where it was.
      onCrash: 'resume',
    };
  }

  /** Validates and stores a study, then queues it: trials start as soon as the runtime claims its task. */
  async createStudy(input: NewStudy): Promise<StudyRecord> {
    const record = {
      id: 0,
      name: input.name,
      objective: input.objective,
      direction: input.direction,
      searchSpace: input.searchSpace ?? (searchSpaceToJson(defaultSearchSpace()) as JsonObject),
      sampler: specText(input.sampler) ?? 'tpe',
      pruner: specText(input.pruner) ?? 'median',
      baseConfig: input.baseConfig,
    };
    // Fail now, with the field named, rather than in the study task.
    studySettings({ ...record, status: 'running', taskId: null, createdAt: '', updatedAt: '' });
    const base = runConfigSchema.safeParse(input.baseConfig);
    if (!base.success) {
      const issue = base.error.issues[0]!;
      throw new ApiError('invalid_request', `baseConfig.${issue.path.map(String).join('.')}: ${issue.message}`);
    }
    const { id: _id, ...fields } = record;
    const study = await this.deps.store.studies.create({
      ...fields,
      taskParams: {
        studyName: input.name.trim(),
        trials: input.trials ?? 20,
        parallel: input.parallel ?? 1,
        ...(input.timeoutSeconds !== undefined ? { timeoutSeconds: input.timeoutSeconds } : {}),
      },
      placement: input.placement ?? 'any',
    });
    if (study.taskId !== null) this.deps.tasks.adopt(study.taskId, input.placement);
    return study;
  }

  async list(): Promise<StudyRecord[]> {
    return this.deps.store.studies.list();
  }

  /** Every study with its trial counts and best value (the studies list). */
  async overview(): Promise<StudyOverview[]> {
    const studies = await this.deps.store.studies.list();
    return Promise.all(
      studies.map(async (study) => {
        const trials = await this.deps.store.studies.trials(study.id);
        const best = bestTrial(study, trials);
        const count = (states: readonly string[]) => trials.filter((t) => states.includes(t.state)).length;
        return {
          study,
          active: count(['queued', 'running']),
          completed: count(['completed']),
          pruned: count(['pruned']),
          failed: count(['failed', 'cancelled', 'crashed']),
          best: best ? { trialNumber: best.number, value: best.value! } : null,
        };
      }),
    );
  }

  /** The study, its trials with their per-epoch objective values, and the best completed trial. */
  async details(studyId: number): Promise<StudyDetails> {
    const study = await this.studyById(studyId);
    const trials = await this.deps.store.studies.trials(studyId);
    const withValues = await Promise.all(trials.map(async (trial) => ({ ...trial, intermediates: await this.deps.store.studies.intermediates(trial.id) })));
    return { study, trials: withValues, best: bestTrial(study, trials) };
  }

  /** The trial budget, parallelism and time limit the study's task was given. */
  async budget(studyId: number): Promise<StudyBudget> {
    const study = await this.studyById(studyId);
    const task = study.taskId !== null ? await this.deps.store.tasks.get(study.taskId) : null;
    const params = task ? studyTaskParams.safeParse(task.params) : null;
    if (!params?.success) return { trials: 20, parallel: 1, timeoutSeconds: null };
    return { trials: params.data.trials, parallel: params.data.parallel, timeoutSeconds: params.data.timeoutSeconds ?? null };
  }

  /** The whole study as one document: settings, budget, and every trial with its intermediate values. */
  async exportStudy(studyId: number): Promise<StudyExport> {
    return studyExportDocument(await this.details(studyId), await this.budget(studyId));
  }

  /**
   * Adds a trial with some parameters fixed, as Optuna's `enqueue_trial`:
   * it waits (queued) until the study starts it, before any sampled trial;
   * the parameters not given are sampled then. Every given parameter must be
   * in the study's search space and its value inside its distribution.
   */
  async enqueue(studyId: number, params: Record<string, ParamValue>): Promise<StoredTrial> {
    const study = await this.studyById(studyId);
    const task = study.taskId !== null ? await this.deps.store.tasks.get(study.taskId) : null;
    if (!task || task.state === 'completed') throw new ApiError('conflict', `Study ${studyId} (${study.name}) has ended; create a new study to run more trials.`);
    const { space } = studySettings(study);
    for (const [path, value] of Object.entries(params)) {
      const dist = space[path];
      if (!dist) throw new ApiError('invalid_request', `params.${path}: not a parameter of study ${study.name}'s search space (its parameters: ${Object.keys(space).sort().join(', ')}).`, [{ path: `params.${path}`, message: 'not in the search space' }]);
      if (!contains(dist, value)) throw new ApiError('invalid_request', `params.${path}: ${JSON.stringify(value)} is outside the search space (${describeDistribution(dist)}).`, [{ path: `params.${path}`, message: 'outside the search space' }]);
    }
    const trial = await this.deps.store.studies.createTrial(studyId, params as JsonObject, 'queued');
    this.deps.logger.info(`Study ${studyId}: trial ${trial.number} enqueued with ${JSON.stringify(params)}.`);
    return trial;
  }

  /** Asks the study's task to stop (its running trials are cancelled, their runs stop after their step). */
  async stop(studyId: number): Promise<{ stopping: boolean }> {
    const study = await this.studyById(studyId);
    if (study.taskId === null) throw new ApiError('conflict', `Study ${studyId} has no task to stop.`);
    return { stopping: await this.deps.tasks.stop(study.taskId, 'study stopped by the user') };
  }

  /** Queues a stopped or crashed study again (placement omitted: as before); it carries on where it was. */
  async resume(studyId: number, options: { placement?: TaskPlacement } = {}): Promise<StudyRecord> {
    const study = await this.studyById(studyId);
    if (study.taskId === null) throw new ApiError('conflict', `Study ${studyId} has no task to resume.`);
    const task = await this.deps.store.tasks.get(study.taskId);
    if (task?.state === 'queued') {
      // Queued again by its crash rule after its process died, and nobody has claimed it: run it here.
      if (options.placement !== undefined) await this.deps.tasks.place(study.taskId, options.placement);
      else this.deps.tasks.adopt(study.taskId, task.placement);
      return this.studyById(studyId);
    }
    if (task && (task.state === 'running' || task.state === 'stopping')) throw new ApiError('conflict', `Study ${studyId} is already running.`);
    if (task?.state === 'completed') throw new ApiError('conflict', `Study ${studyId} has completed; create a new study to run more trials.`);
    await this.deps.tasks.resume(study.taskId, options);
    return this.studyById(studyId);
  }

  /** PED-ANOVA importances of a study's parameters, recomputed only when a trial has completed since. */
  async importances(studyId: number): Promise<ImportanceResult> {
    const study = await this.studyById(studyId);
    const settings = studySettings(study);
    let cache = this.importanceCaches.get(studyId);
    if (!cache) this.importanceCaches.set(studyId, (cache = new ImportanceCache()));
    return cache.get(await this.view(study, await this.deps.store.studies.trials(studyId)), settings.space);
  }

  private async studyById(id: number): Promise<StudyRecord> {
    const study = await this.deps.store.studies.get(id);
    if (!study) throw new ApiError('not_found', `Study ${id} does not exist.`);
    return study;
  }

  private async studyOf(params: StudyTaskParams): Promise<StudyRecord> {
    if (params.studyId !== undefined) return this.studyById(params.studyId);
    const study = await this.deps.store.studies.getByName(params.studyName!);
    if (!study) throw new ApiError('not_found', `Study "${params.studyName}" does not exist.`);
    return study;
  }

  /** What samplers and pruners see: every trial but the enqueued ones still waiting (partial params, as Optuna's WAITING trials). */
  private async rows(trials: StoredTrial[]): Promise<StoredTrialRow[]> {
    return Promise.all(trials.filter((trial) => !isWaiting(trial)).map(async (trial) => ({ trial, intermediates: await this.deps.store.studies.intermediates(trial.id) })));
  }

  private async view(study: StudyRecord, trials: StoredTrial[]) {
    return toStudyView(study, await this.rows(trials));
  }

  private async runStudy(context: TaskContext<StudyTaskParams>): Promise<JsonObject> {
    const { store, logger } = this.deps;
    const study = await this.studyOf(context.params);
    const settings = studySettings(study);
    // Decisions from the stored trials alone: a restarted task decides as this one would have.
    const pruning = new StoredPruning(study, settings.pruner);
    const pollMs = this.deps.pollMs ?? 1_000;
    logger.info(`Study ${study.id} (${study.name}): up to ${context.params.trials} trials, ${context.params.parallel} at a time, ${study.sampler} sampler, ${study.pruner} pruner.`);
    for (;;) {
      if (context.signal.aborted) return this.stopStudy(study);
      await this.takeBack(study, await store.studies.trials(study.id));
      for (const trial of await store.studies.trials(study.id)) {
        if (!isInFlight(trial)) continue;
        try {
          await this.follow(study, settings, pruning, trial);
        } catch (error) {
          // Still owned by a process that died and has not been found stale yet: recovery crashes it, and the next round takes it back.
          if (!(error instanceof ApiError && error.code === 'conflict')) throw error;
          logger.warn(`Study ${study.id}: trial ${trial.number} is not this process's to follow yet: ${error.message}`);
        }
      }
      const trials = await store.studies.trials(study.id);
      const active = trials.filter(isInFlight);
      const waiting = trials.filter(isWaiting);
      const { finished, toRetry } = retryPlan(trials);
      context.progress({ stage: 'trials', done: Math.min(finished, context.params.trials), total: context.params.trials, unit: 'trials' });
      let rows = await this.rows(trials);
      let view = toStudyView(study, rows);
      let remaining = settings.sampler.remaining(view, settings.space);
      const timeout = context.params.timeoutSeconds;
      const outOfTime = timeout !== undefined && Date.now() - Date.parse(study.createdAt) >= timeout * 1000;
      if (finished >= context.params.trials) return this.endStudy(study, 'trials');
      if (active.length === 0 && (outOfTime || (remaining === 0 && waiting.length === 0))) return this.endStudy(study, outOfTime ? 'timeout' : 'exhausted');
      let started = active.length;
      let next = trials.reduce((max, t) => Math.max(max, t.number), -1) + 1;
      const room = () => started < context.params.parallel && finished + started < context.params.trials && !outOfTime && !context.signal.aborted;
      for (const crashed of toRetry) {
        if (!room()) break;
        // Marked first: should this process die too, the crashed trial is not retried twice.
        await store.studies.setTrialState(crashed.id, 'crashed', { error: `${crashed.error ?? 'The process running this trial died.'} Retried as trial ${next}.` });
        await this.startTrial(study, settings, pruning, rows, { number: next, params: crashed.params as Params });
        logger.info(`Study ${study.id}: trial ${crashed.number} crashed; retried once as trial ${next}.`);
        started += 1;
        next += 1;
        rows = await this.rows(await store.studies.trials(study.id));
        view = toStudyView(study, rows);
      }
      // Enqueued trials before sampled ones, oldest first.
      let stillWaiting = waiting.length;
      for (const trial of waiting) {
        if (!room()) break;
        await this.startTrial(study, settings, pruning, rows, { number: trial.number, waiting: trial });
        started += 1;
        stillWaiting -= 1;
        rows = await this.rows(await store.studies.trials(study.id));
        view = toStudyView(study, rows);
        remaining = settings.sampler.remaining(view, settings.space);
      }
      while (room() && remaining > 0 && stillWaiting === 0) {
        await this.startTrial(study, settings, pruning, rows, { number: next });
        started += 1;
        next += 1;
        rows = await this.rows(await store.studies.trials(study.id));
        view = toStudyView(study, rows);
        remaining = settings.sampler.remaining(view, settings.space);
      }
      try {
        await delay(pollMs, undefined, { signal: context.signal });
      } catch {
        // Aborted: the next round stops the study.
      }
    }
  }

  /**
   * Starts a trial: a new one numbered `number` with the sampler's
   * suggestion, a retry of a crashed one with its `params`, or an enqueued
   * (`waiting`) one with its fixed params and the rest suggested.
   */
  private async startTrial(
    study: StudyRecord,
    settings: StudySettings,
    pruning: StoredPruning,
    rows: StoredTrialRow[],
    which: { number: number; params?: Params; waiting?: StoredTrial },
  ): Promise<void> {
    const { store, training, logger } = this.deps;
    const { number } = which;
    const suggest = () => {
      // Hyperband shows the sampler only the new trial's bracket, as Optuna does.
      const seen = pruning.samplingView(rows, number);
      return settings.sampler.suggest({ study: seen, space: settings.space, trialNumber: number });
    };
    let trial: StoredTrial;
    let params: Params;
    if (which.waiting) {
      const fixed = which.waiting.params as Params;
      params = Object.keys(settings.space).every((name) => name in fixed) ? fixed : { ...suggest(), ...fixed };
      trial = await store.studies.startQueuedTrial(which.waiting.id, params as JsonObject);
    } else {
      params = which.params ?? suggest();
      trial = await store.studies.createTrial(study.id, params as JsonObject, 'running');
      if (trial.number !== number) logger.warn(`Study ${study.id}: trial ${trial.number} was suggested as number ${number} (another process added a trial).`);
    }
    let config: RunConfig;
    try {
      config = trialConfig(study, trial.number, params);
    } catch (error) {
      await store.studies.setTrialState(trial.id, 'failed', { error: (error as Error).message });
      return;
    }
    // The trials of a study queued for the workers train on the workers too.
    const placement = study.taskId === null ? 'any' : ((await store.tasks.get(study.taskId))?.placement ?? 'any');
    const run = await training.start(config, { tags: [`study:${study.name}`], trialId: trial.id, placement });
    await store.studies.attachRun(trial.id, run.runId);
    logger.info(`Study ${study.id}: trial ${trial.number} trains as run ${run.runId} with ${JSON.stringify(params)}${which.waiting ? ' (enqueued)' : ''}.`);
  }

  /** Copies new epoch values of the trial's run, consults the pruner, and finishes the trial once its run has ended. */
  private async follow(study: StudyRecord, settings: StudySettings, pruning: StoredPruning, trial: StoredTrial): Promise<void> {
    const { store, training } = this.deps;
    if (trial.runId === null) {
      // Started, but the process died before its run was started.
      await store.studies.setTrialState(trial.id, 'failed', { error: 'The trial has no training run (the study stopped while starting it).' });
      return;
    }
    // Status first: once a run has ended, all its metrics are stored.
    const run = await store.runs.get(trial.runId);
    if (!run) {
      await store.studies.setTrialState(trial.id, 'failed', { error: `Run ${trial.runId} was deleted.` });
      return;
    }
    const series = await store.metrics.series(run.id, settings.objective, { maxPoints: 1_000_000 });
    const reported = new Set((await store.studies.intermediates(trial.id)).map((p) => p.step));
    const perEpoch = new Map<number, number>();
    for (const point of series.points) perEpoch.set(point.epoch, point.value);
    for (const [epoch, value] of [...perEpoch].sort((a, b) => a[0] - b[0])) {
      if (reported.has(epoch)) continue;
      await store.studies.reportIntermediate(trial.id, epoch, value);
      const decision = pruning.decide(await this.rows(await store.studies.trials(study.id)), trial.number);
      if (decision.prune) {
        // Pruned at once (in the store, so a restart sees it); the run stops after its current step.
        if (!FINISHED_RUN.has(run.status)) await training.stop(run.id);
        await store.studies.setTrialState(trial.id, 'pruned');
        return;
      }
    }
    if (!FINISHED_RUN.has(run.status)) {
      // A run waiting for a compute slot logs nothing: keep its trial's task alive meanwhile.
      await store.studies.heartbeat(trial.id);
      return;
    }
    const values = [...perEpoch.values()];
    if (run.status === 'completed') {
      if (values.length === 0) await store.studies.setTrialState(trial.id, 'failed', { error: `Run ${run.id} logged no ${settings.objective}.` });
      else await store.studies.setTrialState(trial.id, 'completed', { value: study.direction === 'minimize' ? Math.min(...values) : Math.max(...values) });
    } else if (run.status === 'stopped') {
      await store.studies.setTrialState(trial.id, 'cancelled', { error: `Run ${run.id} was stopped.` });
    } else if (run.status === 'crashed') {
      // The process training it died (a worker killed, a machine lost): crashed, so the study retries it once.
      await store.studies.setTrialState(trial.id, 'crashed', { error: `Run ${run.id} crashed: ${run.error ?? 'its process died'}.` });
    } else {
      await store.studies.setTrialState(trial.id, 'failed', { error: `Run ${run.id} ${run.status}${run.error ? `: ${run.error}` : ''}.` });
    }
  }

  /**
   * Trials that crashed with the process running the study while their runs
   * went on elsewhere (another worker trains them, or finished them): this
   * study task takes them back and follows them, instead of training their
   * parameters again.
   */
  private async takeBack(study: StudyRecord, trials: readonly StoredTrial[]): Promise<number> {
    const { store, logger } = this.deps;
    let taken = 0;
    for (const trial of trials) {
      if (trial.state !== 'crashed' || trial.runId === null || RETRIED_AS.test(trial.error ?? '')) continue;
      const run = await store.runs.get(trial.runId);
      if (!run || !['queued', 'running', 'completed'].includes(run.status)) continue;
      await store.studies.setTrialState(trial.id, 'running');
      logger.info(`Study ${study.id}: trial ${trial.number} crashed with the process running the study, but its run ${run.id} is ${run.status}; following it again.`);
      taken += 1;
    }
    return taken;
  }

  private async stopStudy(study: StudyRecord): Promise<never> {
    const { store, training } = this.deps;
    for (const trial of await store.studies.trials(study.id)) {
      // Enqueued trials that have not started keep waiting for the study's resumption.
      if (!isInFlight(trial)) continue;
      if (trial.runId !== null) await training.stop(trial.runId).catch(() => undefined);
      await store.studies.setTrialState(trial.id, 'cancelled', { error: 'The study was stopped.' });
    }
    throw new StoppedEarly(await this.summary(study), `Study ${study.id} (${study.name}) stopped; resume it to continue.`);
  }

  /** The study ended on its own: enqueued trials it never started are cancelled, saying why. */
  private async endStudy(study: StudyRecord, reason: StudyEndReason): Promise<StudySummary> {
    const why = reason === 'trials' ? 'its trials were run' : reason === 'timeout' ? 'its time limit was reached' : 'its sampler had no new point';
    for (const trial of await this.deps.store.studies.trials(study.id)) {
      if (isWaiting(trial)) await this.deps.store.studies.setTrialState(trial.id, 'cancelled', { error: `The study ended (${why}) before this enqueued trial started.` });
    }
    return this.summary(study, reason);
  }

  private async summary(study: StudyRecord, reason?: StudyEndReason): Promise<StudySummary> {
    const trials = await this.deps.store.studies.trials(study.id);
    const completed = trials.filter((t) => t.state === 'completed' && t.value !== null);
    const best = bestTrial(study, trials);
    return {
      studyId: study.id,
      reason: reason ?? null,
      finished: trials.filter((t) => !ACTIVE_TRIAL.has(t.state)).length,
      completed: completed.length,
      pruned: trials.filter((t) => t.state === 'pruned').length,
      failed: trials.filter((t) => ['failed', 'cancelled', 'crashed'].includes(t.state)).length,
      best: best ? { trialNumber: best.number, value: best.value!, params: best.params } : null,
    };
  }
}

const RETRIED_AS = /Retried as trial (\d+)\./;

/**
 * Which trials count as finished against the budget, and which crashed ones
 * to retry: a crashed trial already retried stands aside for its retry; a
 * crashed retry counts as finished (failed); any other crashed trial is
 * retried.
 */
export function retryPlan(trials: readonly StoredTrial[]): { finished: number; toRetry: StoredTrial[] } {
  const retries = new Set<number>();
  for (const t of trials) {
    const match = t.state === 'crashed' ? RETRIED_AS.exec(t.error ?? '') : null;
    if (match) retries.add(Number(match[1]));
  }
  let finished = 0;
  const toRetry: StoredTrial[] = [];
  for (const t of trials) {
    if (ACTIVE_TRIAL.has(t.state)) continue;
    if (t.state !== 'crashed' || retries.has(t.number)) finished += 1;
    else if (!RETRIED_AS.test(t.error ?? '')) toRetry.push(t);
  }
  return { finished, toRetry };
}

/** The completed trial with the best value (the earliest on a tie). */
export function bestTrial(study: StudyRecord, trials: readonly StoredTrial[]): StoredTrial | null {
  let best: StoredTrial | null = null;
  for (const t of trials) {
    if (t.state !== 'completed' || t.value === null) continue;
    if (best === null || (study.direction === 'minimize' ? t.value < best.value! : t.value > best.value!)) best = t;
  }
  return best;
}

/** A trial's run config: the study's base config with the trial's parameters laid over it, validated. */
export function trialConfig(study: StudyRecord, number: number, params: Params): RunConfig {
  const merged = mergeConfig(study.baseConfig, paramsToOverrides(params), { name: `${study.name} trial ${number}` });
  const parsed = runConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ApiError('invalid_request', `Trial ${number} of study ${study.name}: ${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
