/**
 * `captioner tune`: runs a tuning study headlessly through the validated API
 * (`tuning.create`, `tuning.get`): each trial trains as a run, one line per
 * finished trial, and the best trial at the end. Ctrl-C stops the study
 * (running trials stop after their current step and save a checkpoint);
 * `captioner tune --resume STUDY` carries on. With `--queue` the study runs
 * on `captioner worker` processes sharing the store, and this command only
 * follows it. `captioner study ...` looks after studies; a study is named by
 * its id or its name everywhere.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StudyDetails } from '../../../shared/contract/tuning';
import { validationGoal, validationKeyOf, VALIDATION_KEYS } from '../../../shared/metricKeys';
import type { StudyRecord } from '../../../shared/storeTypes';
import type { TaskRecord } from '../../../shared/taskTypes';
import { writeFileAtomic } from '../../lib/batch/atomicWrite';
import { trialsDataframeCsv } from '../../tuning/studyExport';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench, type CliContext } from '../context';
import { parseDuration } from '../duration';
import { progressPrinter } from '../progress';
import { parseAssignment } from '../setAssignments';
import { buildConfig } from './train';
import { envMs } from './worker';
import type { Command } from './types';

const tuneUsage = `Usage:
  captioner tune --dataset PATH [--preset P | --config run.json] [--set PATH=VALUE]... [--space space.json]
                 [--objective METRIC] [--direction maximize|minimize]
                 [--sampler tpe|random|grid|sobol] [--pruner median|percentile|halving|hyperband|none]
                 [--trials N] [--timeout 2h] [--parallel N] [--study NAME] [--seed S] [--json]
  captioner tune --resume STUDY [--json]
  captioner tune ... --store URL --queue [--cancel]

Every trial trains a run whose config is the base config (from --config or
--preset, with --dataset, --epochs, --batch-size and --set applied, as for
captioner train) with the trial's parameters laid over it. --space reads a
JSON search space over RunConfig paths (docs/tuning.md); without it the
default space from the RunConfig hints is searched.

--objective    a validation metric stored every epoch: ${VALIDATION_KEYS.join(', ')}
               (default val/loss); a trial's value is its best epoch
--direction    default: minimise a loss, maximise a score
--sampler      tpe (default), random, grid or sobol, or JSON such as
               '{"name":"tpe","options":{"nStartupTrials":5}}'
--pruner       median (default), percentile, halving (successive halving,
               also "successiveHalving"), hyperband or none, or JSON
--seed S       seeds the sampler (its suggestions are then the same for the
               same trials); trials' training seed is the base config's
               training.seed (--set training.seed=N)
--trials N     finished trials to run (default 20)
--timeout D    no trial starts after D (90s, 45m, 2h, 1h30m) from the start;
               running trials finish
--parallel N   trials in progress at once (default 1)
--study NAME   the study's name (--name too; default: one from the time)
--resume STUDY continue a stopped or crashed study (its id or name)

With --queue the study is queued in the shared store (--store, or
CAPTIONER_STORE) for \`captioner worker\` processes: a worker runs the study
and the trials train on whichever workers are free. This command follows it
with the same lines and exits when it ends; Ctrl-C detaches (the study goes
on), and with --cancel Ctrl-C stops it.

One line per finished trial; with --json, JSON lines and a final line with
the best trial. Ctrl-C stops the study after the running trials' current
steps; it stays resumable.

Exit status: 0 when the study ended on its own (its trials were run, its
time limit was reached, or its grid was exhausted; also after --queue
detaches), 130 when it was stopped, 1 when it failed, 2 for a bad command
line.`;

const tuneOptions = {
  ...commonOptions,
  config: { type: 'string' },
  dataset: { type: 'string' },
  preset: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  space: { type: 'string' },
  objective: { type: 'string' },
  direction: { type: 'string' },
  sampler: { type: 'string' },
  pruner: { type: 'string' },
  trials: { type: 'string' },
  timeout: { type: 'string' },
  parallel: { type: 'string' },
  study: { type: 'string' },
  name: { type: 'string' },
  resume: { type: 'string' },
  queue: { type: 'boolean', default: false },
  cancel: { type: 'boolean', default: false },
} as const;

type TuneValues = ReturnType<typeof parse<typeof tuneOptions>>['values'];
type Algorithm = string | { name: string; options?: Record<string, unknown> };

function algorithm(text: string | undefined, flag: string): Algorithm | undefined {
  if (text === undefined) return undefined;
  if (!text.trim().startsWith('{')) return text.trim();
  try {
    return JSON.parse(text) as { name: string; options?: Record<string, unknown> };
  } catch (error) {
    throw new CliError(`--${flag}: not valid JSON (${(error as Error).message}).`, 2);
  }
}

/** The sampler with `--seed` laid into its options. */
function seededSampler(sampler: Algorithm | undefined, seedText: string | undefined): Algorithm | undefined {
  if (seedText === undefined) return sampler;
  const seed = Number(seedText);
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1) throw new CliError(`--seed must be a whole number from 0 to ${2 ** 32 - 1} (got "${seedText}").`, 2);
  const spec = typeof sampler === 'object' ? sampler : { name: sampler ?? 'tpe' };
  if (spec.options && 'seed' in spec.options) throw new CliError('--seed and the seed in --sampler\'s options: give the seed once.', 2);
  return { ...spec, options: { ...spec.options, seed } };
}

function readSpace(path: string): Record<string, unknown> {
  const file = resolve(path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file}: cannot read the search space: ${(error as Error).message}`, 2);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`${file}: a search space must be a JSON object.`, 2);
  return parsed as Record<string, unknown>;
}

const format = (value: number | null) => (value === null ? '—' : Number(value.toPrecision(5)).toString());

/** A name for a study started without --study: the time it started, to the second. */
function generatedName(now = new Date()): string {
  return `study-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}`;
}

/** The study an id or a name stands for (a number is an id first, then a name). */
export async function resolveStudy(cli: CliContext, ref: string | undefined, usage: string): Promise<StudyRecord> {
  const text = ref?.trim() ?? '';
  if (text === '') throw new CliError(`A study (its id or name) is required.\n\n${usage}`, 2);
  const studies = await cli.call('tuning.list', {});
  const byId = /^\d+$/.test(text) ? studies.find((s) => s.id === Number(text)) : undefined;
  const study = byId ?? studies.find((s) => s.name === text);
  if (!study) throw new CliError(`No study has the id or name "${text}" (captioner study list shows them).`, 1);
  return study;
}

/** Prints the trials that finished since the last call. */
async function printFinished(cli: CliContext, studyId: number, printed: Set<number>, json: boolean): Promise<StudyDetails> {
  const details = await cli.call('tuning.get', { studyId });
  for (const trial of details.trials) {
    if (printed.has(trial.number) || trial.state === 'queued' || trial.state === 'running') continue;
    printed.add(trial.number);
    if (json) printJson({ type: 'trial', number: trial.number, state: trial.state, value: trial.value, epochs: trial.intermediates.length, params: trial.params, runId: trial.runId });
    else process.stdout.write(`Trial ${trial.number} ${trial.state}${trial.value !== null ? ` ${details.study.objective} ${format(trial.value)}` : ''} after ${trial.intermediates.length} epochs: ${JSON.stringify(trial.params)}\n`);
  }
  return details;
}

export interface FollowStudyOptions {
  json: boolean;
  /**
   * `local`: the study runs in this process; Ctrl-C stops it. `queue`: workers
   * run it; Ctrl-C detaches, or stops it when `cancelOnInterrupt`.
   */
  mode: 'local' | 'queue';
  cancelOnInterrupt?: boolean;
}

/**
 * Follows a study's task to its end, printing trials as they finish and the
 * best at the end. Throws a CliError with the exit code when the study did
 * not end on its own (stopped: 130, failed or crashed: 1).
 */
async function followStudy(cli: CliContext, start: () => Promise<StudyRecord>, options: FollowStudyOptions): Promise<void> {
  const { json } = options;
  const { tasks, bus, store } = cli.workbench.services;
  const printed = new Set<number>();
  const bar = progressPrinter(!json);
  const pollMs = options.mode === 'queue' ? envMs('CAPTIONER_POLL_MS', 1_000) : 500;
  let study: StudyRecord | null = null;
  let polling = Promise.resolve();
  let announced = 0;
  const waiting = new AbortController();
  let detached = false;
  let interrupts = 0;

  const poll = async (id: number, taskId: number) => {
    await printFinished(cli, id, printed, json);
    if (options.mode !== 'queue') return;
    // Queued: say which worker took the study, once per claim, and show its progress from the store.
    const task = await store.tasks.get(taskId);
    if (task && task.state !== 'queued' && task.owner && task.attempts > announced) {
      announced = task.attempts;
      bar.done();
      if (json) printJson({ type: 'started', studyId: id, taskId, host: task.owner.host, worker: task.owner.worker });
      else process.stderr.write(`Study ${id} taken by ${task.owner.worker} on ${task.owner.host}.\n`);
    }
    if (task?.progress && (task.state === 'running' || task.state === 'stopping')) bar.update(task.progress);
  };
  const timer = setInterval(() => {
    if (study === null || study.taskId === null) return;
    const { id, taskId } = study;
    polling = polling.then(() => poll(id, taskId)).catch(() => undefined);
  }, pollMs);
  const detachEvents = bus.attach((event, payload) => {
    const update = payload as { taskId: number; progress: TaskRecord['progress'] };
    if (event === 'task.progress' && study !== null && update.taskId === study.taskId && update.progress) bar.update(update.progress);
  });
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts > 1 || study === null) process.exit(130);
    bar.done();
    if (options.mode === 'queue' && !options.cancelOnInterrupt) {
      detached = true;
      waiting.abort();
      return;
    }
    process.stderr.write('\nStopping the study after the running trials\' current step (Ctrl-C again to quit at once)…\n');
    void cli.call('tuning.stop', { studyId: study.id }).catch(() => undefined);
  };
  process.on('SIGINT', onInterrupt);
  let ended: TaskRecord | null = null;
  try {
    study = await start();
    if (study.taskId === null) throw new CliError(`Study ${study.id} has no task.`);
    const settings = `${study.sampler} sampler, ${study.pruner} pruner, ${study.direction === 'minimize' ? 'minimising' : 'maximising'} ${study.objective}`;
    if (options.mode === 'queue') {
      if (json) printJson({ type: 'queued', studyId: study.id, name: study.name, taskId: study.taskId });
      else process.stderr.write(`Study ${study.id} (${study.name}) queued for the workers: ${settings}. Ctrl-C ${options.cancelOnInterrupt ? 'stops it' : 'detaches; the study continues'}.\n`);
    } else if (!json) process.stderr.write(`Study ${study.id} (${study.name}): ${settings}.\n`);
    // A second Ctrl-C during start quits; one that came in before the study existed stops it now.
    if (interrupts > 0 && !detached) await cli.call('tuning.stop', { studyId: study.id });
    try {
      const { id: studyId, taskId } = study;
      ended = await tasks.wait(taskId, {
        signal: waiting.signal,
        pollMs,
        // Its worker died: the study's crash rule queued it again for another worker.
        onRequeued: (crashed) => {
          if (json) printJson({ type: 'requeued', studyId, taskId, error: crashed.error });
          else process.stderr.write(`Study ${studyId}: its worker stopped answering (${crashed.error ?? 'no reason recorded'}); another worker takes it over.\n`);
        },
      });
    } catch (error) {
      if (!detached) throw error;
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    clearInterval(timer);
    detachEvents();
    await polling;
    bar.done();
  }
  if (study === null || study.taskId === null) return;
  await poll(study.id, study.taskId).catch(() => undefined);
  if (detached) {
    if (json) printJson({ type: 'detached', studyId: study.id, taskId: study.taskId });
    else process.stderr.write(`\nDetached. Study ${study.id} (${study.name}) continues on the workers; see it with: captioner study show ${study.id}\n`);
    return;
  }
  const details = await cli.call('tuning.get', { studyId: study.id });
  const best = details.best;
  const reason = ended?.state === 'completed' ? ((ended.result as { reason?: string } | null)?.reason ?? null) : null;
  if (json) {
    printJson({
      type: 'final',
      studyId: study.id,
      name: study.name,
      status: details.study.status,
      reason,
      trials: details.trials.length,
      best: best ? { number: best.number, value: best.value, params: best.params, runId: best.runId } : null,
      ...(ended?.error ? { error: ended.error } : {}),
    });
  } else {
    process.stdout.write(best ? `Best: trial ${best.number}, ${details.study.objective} ${format(best.value)} (run ${best.runId}): ${JSON.stringify(best.params)}\n` : 'No trial completed.\n');
  }
  if (!ended || ended.state === 'completed') {
    if (!json && reason) process.stderr.write(`Study ${study.id} ended: ${REASONS[reason] ?? reason}.\n`);
    return;
  }
  if (ended.state === 'cancelled') throw new CliError(`Study ${study.id} (${study.name}) stopped; continue with: captioner tune --resume ${study.id}`, 130, true);
  throw new CliError(`Study ${study.id} (${study.name}) ${ended.state}: ${ended.error ?? 'no reason recorded'}`, 1, true);
}

const REASONS: Record<string, string> = {
  trials: 'its trials were run',
  timeout: 'its time limit was reached',
  exhausted: 'its sampler has no new point (the grid is done)',
};

/** The study `tune` describes, as `tuning.create` takes it. */
function newStudyRequest(values: TuneValues) {
  if (values.study !== undefined && values.name !== undefined && values.study !== values.name) throw new CliError('--study and --name both name the study; give one.', 2);
  const name = (values.study ?? values.name ?? generatedName()).trim();
  if (name === '') throw new CliError('--study needs a name.', 2);
  let objective: (typeof VALIDATION_KEYS)[number] = 'val/loss';
  if (values.objective !== undefined) {
    const key = validationKeyOf(values.objective);
    if (!key) throw new CliError(`--objective must be one of ${VALIDATION_KEYS.join(', ')} (got "${values.objective}").`, 2);
    objective = key;
  }
  const direction = values.direction ?? validationGoal(objective);
  if (direction !== 'minimize' && direction !== 'maximize') throw new CliError(`--direction must be minimize or maximize (got "${direction}").`, 2);
  // --seed seeds the sampler here; the trials' training seed comes from the base config.
  const { name: _name, study: _study, seed: _seed, ...trainValues } = values;
  const baseConfig = buildConfig(trainValues as Parameters<typeof buildConfig>[0]) as unknown as Record<string, unknown>;
  const searchSpace = values.space !== undefined ? readSpace(values.space) : undefined;
  const sampler = seededSampler(algorithm(values.sampler, 'sampler'), values.seed);
  const pruner = algorithm(values.pruner, 'pruner');
  const trials = intOption(values.trials, 'trials', 20);
  if (trials < 1) throw new CliError('--trials must be at least 1.', 2);
  const parallel = intOption(values.parallel, 'parallel', 1);
  if (parallel < 1) throw new CliError('--parallel must be at least 1.', 2);
  const timeoutSeconds = values.timeout !== undefined ? parseDuration(values.timeout, 'timeout') : undefined;
  return {
    name,
    objective,
    direction,
    baseConfig,
    trials,
    parallel,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    ...(searchSpace ? { searchSpace } : {}),
    ...(sampler ? { sampler } : {}),
    ...(pruner ? { pruner } : {}),
  } as const;
}

/** Flags that describe a new study, which --resume does not take. */
const NEW_STUDY_FLAGS = ['config', 'dataset', 'preset', 'epochs', 'batch-size', 'seed', 'set', 'space', 'objective', 'direction', 'sampler', 'pruner', 'trials', 'timeout', 'parallel', 'study', 'name'] as const;

export const tuneCommand: Command = {
  name: 'tune',
  summary: 'Tune hyperparameters: a study of training runs suggested by TPE (or random, grid, Sobol) and pruned early',
  usage: tuneUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, tuneOptions, tuneUsage);
    if (positionals.length > 0) throw new CliError(`Unexpected argument "${positionals[0]}".\n\n${tuneUsage}`, 2);
    if (values.cancel && !values.queue) throw new CliError('--cancel goes with --queue (a study run here always stops on Ctrl-C).', 2);
    if (values.resume !== undefined) {
      const extra = NEW_STUDY_FLAGS.find((flag) => values[flag] !== undefined);
      if (extra) throw new CliError(`--resume continues a study as it was created; --${extra} cannot change it.`, 2);
    }
    const request = values.resume === undefined ? newStudyRequest(values) : null;
    const mode = values.queue ? 'queue' : 'local';
    await withWorkbench(
      { dataDir: values['data-dir'], store: values.store, quiet: values.json, ...(values.queue ? { tasks: { scope: 'own', execute: false } } : {}) },
      async (cli) => {
        // --queue: for the workers only (its trials' runs too), so a workbench sharing the store leaves it to them.
        const placement = values.queue ? ('workers' as const) : ('here' as const);
        const start = request
          ? () => cli.call('tuning.create', { ...request, ...(values.queue ? { placement } : {}) })
          : async () => cli.call('tuning.resume', { studyId: (await resolveStudy(cli, values.resume, tuneUsage)).id, placement });
        await followStudy(cli, start, { json: values.json, mode, cancelOnInterrupt: values.cancel });
      },
    );
  },
};

const studyUsage = `Usage:
  captioner study list [--json]
  captioner study show STUDY [--json]          trials, their values and the best
  captioner study best STUDY [--json]          the best trial: parameters, value, run
  captioner study export STUDY [--out FILE] [--format json|csv]
                                               the whole study as JSON (settings, budget,
                                               every trial with its intermediate values),
                                               or its trials as CSV in the layout of
                                               Optuna's trials_dataframe()
  captioner study enqueue STUDY --set PATH=VALUE...
                                               a trial with these parameters; it runs
                                               before sampled ones and counts against the
                                               budget; the parameters not given are
                                               sampled when it starts
  captioner study importance STUDY [--json]    PED-ANOVA parameter importance
  captioner study stop STUDY                   stop a study running elsewhere
  captioner study resume STUDY [--json]        continue a stopped study here

STUDY is a study's id or its name. Every action takes --data-dir DIR and
--store URL.`;

const studyOptions = {
  ...commonOptions,
  out: { type: 'string' },
  format: { type: 'string' },
  set: { type: 'string', multiple: true },
} as const;

const ACTIONS = ['list', 'show', 'best', 'export', 'enqueue', 'importance', 'stop', 'resume'] as const;

/** `--set PATH=VALUE` pairs as fixed parameters (values read as JSON when they can be: 256, true, "lstm"). */
function enqueuedParams(assignments: string[]): Record<string, string | number | boolean | null> {
  if (assignments.length === 0) throw new CliError(`captioner study enqueue needs at least one --set PATH=VALUE.\n\n${studyUsage}`, 2);
  const params: Record<string, string | number | boolean | null> = {};
  for (const assignment of assignments) {
    const { path, value, text } = parseAssignment(assignment);
    if (value !== null && typeof value === 'object') throw new CliError(`--set ${path}: a parameter's value is a number, a string, true, false or null (got ${text}).`, 2);
    if (path in params) throw new CliError(`--set ${path} is given twice.`, 2);
    params[path] = value as string | number | boolean | null;
  }
  return params;
}

export const studyCommand: Command = {
  name: 'study',
  summary: 'List, show, export, stop and resume tuning studies; their best trial; enqueue trials; parameter importance',
  usage: studyUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, studyOptions, studyUsage);
    const [action, ref] = positionals;
    if (!action || !(ACTIONS as readonly string[]).includes(action)) throw new CliError(`Unknown or missing action "${action ?? ''}".\n\n${studyUsage}`, 2);
    if (action !== 'list' && (ref === undefined || ref.trim() === '')) throw new CliError(`captioner study ${action} needs a study (its id or name).\n\n${studyUsage}`, 2);
    if (values.out !== undefined && action !== 'export') throw new CliError('--out goes with study export.', 2);
    const exportFormat = values.format ?? (values.out?.toLowerCase().endsWith('.csv') ? 'csv' : 'json');
    if (exportFormat !== 'json' && exportFormat !== 'csv') throw new CliError(`--format must be json or csv (got "${values.format}").`, 2);
    if (values.set !== undefined && action !== 'enqueue') throw new CliError('--set goes with study enqueue.', 2);
    const fixed = action === 'enqueue' ? enqueuedParams(values.set ?? []) : {};
    await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: values.json || action === 'export' }, async (cli) => {
      if (action === 'list') {
        const studies = await cli.call('tuning.list', {});
        if (values.json) for (const study of studies) printJson(study);
        else if (studies.length === 0) process.stdout.write('No studies.\n');
        else for (const s of studies) process.stdout.write(`${s.id}\t${s.name}\t${s.status}\t${s.direction} ${s.objective}\t${s.sampler}/${s.pruner}\n`);
        return;
      }
      const study = await resolveStudy(cli, ref, studyUsage);
      const id = study.id;
      if (action === 'show') {
        const details = await cli.call('tuning.get', { studyId: id });
        if (values.json) printJson(details);
        else {
          const { study } = details;
          process.stdout.write(`Study ${study.id} (${study.name}): ${study.status}, ${study.direction} ${study.objective}, ${study.sampler} sampler, ${study.pruner} pruner\n`);
          for (const t of details.trials) process.stdout.write(`  trial ${t.number}\t${t.state}\t${format(t.value)}\t${t.intermediates.length} epochs\trun ${t.runId ?? '—'}\t${JSON.stringify(t.params)}\n`);
          if (details.best) process.stdout.write(`Best: trial ${details.best.number}, ${format(details.best.value)}\n`);
        }
      } else if (action === 'best') {
        const { best } = await cli.call('tuning.get', { studyId: id });
        if (!best) {
          if (values.json) printJson({ studyId: id, name: study.name, best: null });
          throw new CliError(`Study ${id} (${study.name}) has no completed trial yet.`, 1, values.json);
        }
        if (values.json) printJson({ studyId: id, name: study.name, objective: study.objective, direction: study.direction, number: best.number, value: best.value, params: best.params, runId: best.runId });
        else {
          process.stdout.write(`Best of study ${id} (${study.name}): trial ${best.number}, ${study.objective} ${format(best.value)}, run ${best.runId ?? '—'}\n`);
          for (const [name, value] of Object.entries(best.params)) process.stdout.write(`  ${name} = ${JSON.stringify(value)}\n`);
        }
      } else if (action === 'export') {
        const document = await cli.call('tuning.export', { studyId: id });
        const text = exportFormat === 'csv' ? trialsDataframeCsv(document) : `${JSON.stringify(document, null, 2)}\n`;
        if (values.out === undefined) process.stdout.write(text);
        else {
          const file = resolve(values.out);
          try {
            writeFileAtomic(file, text);
          } catch (error) {
            throw new CliError(`${file}: cannot write the export: ${(error as Error).message}`);
          }
          process.stderr.write(`Study ${id} (${study.name}): ${document.trials.length} trials written to ${file}.\n`);
        }
      } else if (action === 'enqueue') {
        const trial = await cli.call('tuning.enqueue', { studyId: id, params: fixed });
        if (values.json) printJson(trial);
        else process.stdout.write(`Trial ${trial.number} of study ${id} (${study.name}) enqueued with ${JSON.stringify(trial.params)}; it runs before sampled trials, and the parameters not given are sampled when it starts.\n`);
      } else if (action === 'importance') {
        const result = await cli.call('tuning.importance', { studyId: id });
        if (values.json) printJson(result);
        else {
          process.stdout.write(`From ${result.completeTrials} complete trials:\n`);
          for (const [name, share] of Object.entries(result.importances)) process.stdout.write(`  ${name.padEnd(32)} ${(share * 100).toFixed(1)}%\n`);
        }
      } else if (action === 'stop') {
        const { stopping } = await cli.call('tuning.stop', { studyId: id });
        process.stdout.write(stopping ? `Study ${id} is stopping.\n` : `Study ${id} was not running.\n`);
      } else {
        await followStudy(cli, () => cli.call('tuning.resume', { studyId: id }), { json: values.json, mode: 'local' });
      }
    });
  },
};
