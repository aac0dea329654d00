/**
 * `captioner tune`: runs a tuning study headlessly through the validated API
 * (`tuning.create`, `tuning.get`): each trial trains as a run in this
 * process, one line per finished trial, and the best trial at the end.
 * Ctrl-C stops the study (running trials are cancelled, their runs save a
 * checkpoint); `captioner study resume ID` carries on.
 * `captioner study list|show|importance|stop|resume` look after studies.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StudyDetails } from '../../../shared/contract/tuning';
import type { JsonObject, StudyRecord } from '../../../shared/storeTypes';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench, type CliContext } from '../context';
import { followTask } from '../tasks';
import { buildConfig } from './train';
import type { Command } from './types';

const OBJECTIVES = ['val/loss', 'val/bleu4', 'val/ciderD'] as const;

const tuneUsage = `Usage:
  captioner tune --dataset PATH [--preset shapes-quick | --config run.json] [--set PATH=VALUE ...]
                 [--epochs N] [--space space.json] [--objective val/loss|val/bleu4|val/ciderD]
                 [--direction minimize|maximize] [--sampler tpe|random|grid|sobol|JSON]
                 [--pruner median|percentile|successiveHalving|hyperband|none|JSON]
                 [--trials N] [--parallel N] --name NAME [--json] [--data-dir DIR]

Every trial trains a run whose config is the base config (from --config or
--preset, with --dataset, --epochs and --set applied, as for captioner train)
with the trial's parameters laid over it. --space reads a JSON search space
over RunConfig paths (docs/tuning.md); without it the default space from the
RunConfig hints is searched. The objective (default val/loss, minimised;
BLEU-4 and CIDEr-D are maximised) is the trial's best value over its epochs.
--sampler and --pruner take a name or JSON like '{"name":"tpe","options":{"seed":1}}'
(defaults tpe and median). --trials (default 20) finished trials, --parallel
(default 1) at once.

One line per finished trial; with --json, JSON lines and a final summary.
Ctrl-C stops the study; resume it with captioner study resume ID.`;

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
  parallel: { type: 'string' },
  name: { type: 'string' },
} as const;

function algorithm(text: string | undefined, flag: string): string | { name: string; options?: Record<string, unknown> } | undefined {
  if (text === undefined) return undefined;
  if (!text.trim().startsWith('{')) return text.trim();
  try {
    return JSON.parse(text) as { name: string; options?: Record<string, unknown> };
  } catch (error) {
    throw new CliError(`--${flag}: not valid JSON (${(error as Error).message}).`, 2);
  }
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

/** Prints the trials that finished since the last call; returns how many are printed in all. */
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

/** Follows a study's task to its end, printing trials as they finish. */
async function followStudy(cli: CliContext, start: () => Promise<StudyRecord>, json: boolean): Promise<void> {
  const printed = new Set<number>();
  let studyId: number | null = null;
  let polling = Promise.resolve();
  const timer = setInterval(() => {
    if (studyId === null) return;
    const id = studyId;
    polling = polling.then(() => printFinished(cli, id, printed, json).then(() => undefined)).catch(() => undefined);
  }, 500);
  try {
    await followTask<JsonObject>(
      cli,
      async () => {
        const study = await start();
        studyId = study.id;
        if (!json) process.stderr.write(`Study ${study.id} (${study.name}): ${study.sampler} sampler, ${study.pruner} pruner, ${study.direction === 'minimize' ? 'minimising' : 'maximising'} ${study.objective}.\n`);
        if (study.taskId === null) throw new CliError(`Study ${study.id} has no task.`);
        return { taskId: study.taskId };
      },
      { showProgress: !json },
    );
  } finally {
    clearInterval(timer);
    await polling;
    if (studyId !== null) {
      const details = await printFinished(cli, studyId, printed, json);
      const best = details.best;
      if (json) printJson({ type: 'final', studyId, status: details.study.status, trials: details.trials.length, best: best ? { number: best.number, value: best.value, params: best.params, runId: best.runId } : null });
      else process.stdout.write(best ? `Best: trial ${best.number}, ${details.study.objective} ${format(best.value)} (run ${best.runId}): ${JSON.stringify(best.params)}\n` : 'No trial completed.\n');
    }
  }
}

export const tuneCommand: Command = {
  name: 'tune',
  summary: 'Tune hyperparameters: a study of training runs suggested by TPE (or random, grid, Sobol) and pruned early',
  usage: tuneUsage,
  async run(argv) {
    const { values } = parse(argv, tuneOptions, tuneUsage);
    if (!values.name) throw new CliError(`--name is required (studies are found by name).\n\n${tuneUsage}`, 2);
    const objective = (values.objective ?? 'val/loss') as (typeof OBJECTIVES)[number];
    if (!OBJECTIVES.includes(objective)) throw new CliError(`--objective must be one of ${OBJECTIVES.join(', ')} (got "${values.objective}").`, 2);
    const direction = values.direction ?? (objective === 'val/loss' ? 'minimize' : 'maximize');
    if (direction !== 'minimize' && direction !== 'maximize') throw new CliError(`--direction must be minimize or maximize (got "${direction}").`, 2);
    const { name: _studyName, ...trainValues } = values;
    const baseConfig = buildConfig(trainValues as Parameters<typeof buildConfig>[0]) as unknown as Record<string, unknown>;
    const searchSpace = values.space !== undefined ? readSpace(values.space) : undefined;
    const sampler = algorithm(values.sampler, 'sampler');
    const pruner = algorithm(values.pruner, 'pruner');
    const trials = intOption(values.trials, 'trials', 20);
    const parallel = intOption(values.parallel, 'parallel', 1);
    await withWorkbench({ dataDir: values['data-dir'], quiet: values.json }, async (cli) => {
      await followStudy(
        cli,
        () =>
          cli.call('tuning.create', {
            name: values.name!,
            objective,
            direction,
            baseConfig,
            trials,
            parallel,
            ...(searchSpace ? { searchSpace } : {}),
            ...(sampler ? { sampler } : {}),
            ...(pruner ? { pruner } : {}),
          }),
        values.json,
      );
    });
  },
};

const studyUsage = `Usage:
  captioner study list [--json] [--data-dir DIR]
  captioner study show ID [--json] [--data-dir DIR]        trials, their values and the best
  captioner study importance ID [--json] [--data-dir DIR]  PED-ANOVA parameter importance
  captioner study stop ID [--data-dir DIR]                 stop a study running elsewhere
  captioner study resume ID [--json] [--data-dir DIR]      continue a stopped study here`;

const studyOptions = { ...commonOptions } as const;

function studyIdOf(text: string | undefined): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id < 1) throw new CliError(`A study id (a positive integer) is required (got "${text ?? ''}").\n\n${studyUsage}`, 2);
  return id;
}

export const studyCommand: Command = {
  name: 'study',
  summary: 'List, show, stop and resume tuning studies; parameter importance',
  usage: studyUsage,
  async run(argv) {
    const { values, positionals } = parse(argv, studyOptions, studyUsage);
    const [action, idText] = positionals;
    if (!action || !['list', 'show', 'importance', 'stop', 'resume'].includes(action)) throw new CliError(`Unknown or missing action "${action ?? ''}".\n\n${studyUsage}`, 2);
    const id = action === 'list' ? 0 : studyIdOf(idText);
    await withWorkbench({ dataDir: values['data-dir'], quiet: values.json }, async (cli) => {
      if (action === 'list') {
        const studies = await cli.call('tuning.list', {});
        if (values.json) for (const study of studies) printJson(study);
        else if (studies.length === 0) process.stdout.write('No studies.\n');
        else for (const s of studies) process.stdout.write(`${s.id}\t${s.name}\t${s.status}\t${s.direction} ${s.objective}\t${s.sampler}/${s.pruner}\n`);
      } else if (action === 'show') {
        const details = await cli.call('tuning.get', { studyId: id });
        if (values.json) printJson(details);
        else {
          const { study } = details;
          process.stdout.write(`Study ${study.id} (${study.name}): ${study.status}, ${study.direction} ${study.objective}, ${study.sampler} sampler, ${study.pruner} pruner\n`);
          for (const t of details.trials) process.stdout.write(`  trial ${t.number}\t${t.state}\t${format(t.value)}\t${t.intermediates.length} epochs\trun ${t.runId ?? '—'}\t${JSON.stringify(t.params)}\n`);
          if (details.best) process.stdout.write(`Best: trial ${details.best.number}, ${format(details.best.value)}\n`);
        }
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
        await followStudy(cli, () => cli.call('tuning.resume', { studyId: id }), values.json);
      }
    });
  },
};
