/**
 * `captioner train`: trains a captioning model headlessly, through the same
 * validated API the UI uses (`training.start`, `training.resume`,
 * `training.stop`). Ctrl-C stops after the current step, saves a checkpoint
 * and leaves the run resumable; a second Ctrl-C quits at once.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { budgetFit, describeBudgetFit } from '../../../shared/budgetFit';
import { isPresetId, mergeConfig, presetIds, presets, validateRunConfig, type RunConfig } from '../../../shared/runConfig';
import type { TrainingEpochEvent, TrainingEstimate, TrainingFinished, TrainingStartedEvent } from '../../../shared/trainingTypes';
import { isFinalTaskState, type TaskProgressEvent } from '../../../shared/taskTypes';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import { overridesFromAssignments, setPath } from '../setAssignments';
import { formatDuration, progressPrinter } from '../progress';
import { formatEpochLine, QueuedRunFollower } from '../queuedRun';
import { envMs } from './worker';
import type { Command } from './types';

const usage = `Usage:
  captioner train --config run.json [--set PATH=VALUE ...] [--json] [--data-dir DIR]
  captioner train --dataset PATH [--preset shapes-quick] [--epochs N] [--batch-size N]
                  [--seed N] [--name NAME] [--set PATH=VALUE ...] [--json] [--data-dir DIR]
  captioner train --resume RUN [--json] [--data-dir DIR]
  captioner train ... --estimate      time a few steps and print seconds per epoch instead
  captioner train ... --store URL --queue [--cancel]
                                      queue the run for workers and follow it

--config reads a RunConfig JSON file (the same schema as the UI's run form;
see docs/training.md). Without it, --preset (default shapes-quick) gives the
starting point. --set overrides any field by its dotted path, e.g.
--set decoder.variant=attention --set optimizer.learningRate=5e-4 (values
are parsed as JSON when they can be). Presets: ${presetIds.join(', ')}.

Progress goes to stderr. With --json, stdout gets a "started" line (backend,
batch size, warnings), one JSON line per epoch (losses, BLEU-4, CIDEr-D,
learning rate) and a final line with the run id, status, checkpoint path and
validation metrics. Ctrl-C stops after the
current step and saves a checkpoint; resume with --resume RUN.

With --queue the run is queued in the store (--store, or CAPTIONER_STORE)
for \`captioner worker\` processes only (a workbench sharing the store
leaves it to them) instead of training here; this command
follows it with the same lines and exits when it ends. Ctrl-C then detaches
and leaves the run to the workers; with --cancel, Ctrl-C stops the run
(after its current step, saving a checkpoint).

Exit status: 0 when the run completed (or stopped early, or was pruned), 1
when it failed or crashed (the reason on stderr and in the final JSON line),
130 when it was stopped before the end, 2 for a bad command line.`;

const options = {
  ...commonOptions,
  config: { type: 'string' },
  dataset: { type: 'string' },
  preset: { type: 'string' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  seed: { type: 'string' },
  name: { type: 'string' },
  set: { type: 'string', multiple: true },
  resume: { type: 'string' },
  estimate: { type: 'boolean', default: false },
  queue: { type: 'boolean', default: false },
  cancel: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parse<typeof options>>['values'];

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train a captioning model (from a config file, a preset, or resume a run)',
  usage,
  async run(argv) {
    const { values } = parse(argv, options, usage);
    const resumeRun = values.resume !== undefined ? intOption(values.resume, 'resume', 0) : null;
    if (resumeRun !== null && resumeRun < 1) throw new CliError('--resume needs a run id (a positive integer).', 2);
    const config = resumeRun === null ? buildConfig(values) : null;
    if (values.cancel && !values.queue) throw new CliError('--cancel goes with --queue (a local run always stops on Ctrl-C).', 2);
    if (values.queue) {
      if (values.estimate) throw new CliError('--estimate times this machine; it cannot be queued.', 2);
      await trainQueued(values, config, resumeRun);
      return;
    }

    await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: values.json }, async (cli) => {
      if (values.estimate) {
        if (!config) throw new CliError('--estimate needs a configuration, not --resume.', 2);
        const estimate = await cli.call('training.estimate', { config });
        if (values.json) printJson(estimate);
        else process.stdout.write(formatEstimate(estimate, config));
        return;
      }
      const { bus } = cli.workbench.services;
      const bar = progressPrinter(!values.json);
      let runId: number | null = null;
      const detach = bus.attach((event, payload) => {
        if (event === 'task.progress' && (payload as TaskProgressEvent).subject?.type === 'run' && (payload as TaskProgressEvent).subject?.id === runId) bar.update((payload as TaskProgressEvent).progress);
        if (event === 'training.started' && (payload as TrainingStartedEvent).runId === runId) {
          const started = payload as TrainingStartedEvent;
          if (values.json) printJson({ type: 'started', runId: started.runId, backend: started.backend, device: started.device, batchSize: started.batchSize, stepsPerEpoch: started.stepsPerEpoch, epochs: started.epochs, warnings: started.warnings, skippedImages: started.skippedImages });
          else process.stderr.write(`Training on ${started.backend} (${started.device}), batch ${started.batchSize}, ${started.stepsPerEpoch} steps per epoch, ${started.parameters.toLocaleString('en-US')} weights.\n`);
        }
        if (event === 'training.epoch' && (payload as TrainingEpochEvent).runId === runId) {
          bar.done();
          const epoch = payload as TrainingEpochEvent;
          if (values.json) printJson(epochLine(epoch));
          else process.stdout.write(formatEpoch(epoch));
        }
      });

      let interrupts = 0;
      const onInterrupt = () => {
        interrupts += 1;
        if (interrupts > 1) {
          process.stderr.write('\nQuitting without waiting for the checkpoint.\n');
          process.exit(130);
        }
        bar.done();
        process.stderr.write('\nStopping after the current step and saving a checkpoint (Ctrl-C again to quit at once)…\n');
        if (runId !== null) void cli.call('training.stop', { runId }).catch(() => undefined);
      };
      process.on('SIGINT', onInterrupt);
      try {
        // Here: a run queued earlier for the workers is taken back to this machine.
        const started =
          resumeRun !== null ? await cli.call('training.resume', { runId: resumeRun, placement: 'here' }) : await cli.call('training.start', { config: config! });
        runId = started.runId;
        if (!values.json) process.stderr.write(`Run ${runId}: ${started.runDir}\n`);
        if (interrupts > 0) await cli.call('training.stop', { runId });
        const finished = await cli.workbench.services.training.finished(runId);
        bar.done();
        if (values.json) printJson({ type: 'final', ...finished });
        else process.stdout.write(formatFinished(finished));
        const failure = unfinished(finished);
        if (failure) throw new CliError(failure.message, failure.exitCode, true);
      } finally {
        process.off('SIGINT', onInterrupt);
        detach();
      }
    });
  },
};

/** `--queue`: submit (or resume) the run for workers and follow it through the store. */
async function trainQueued(values: Values, config: RunConfig | null, resumeRun: number | null): Promise<void> {
  const pollMs = envMs('CAPTIONER_POLL_MS', 1_000);
  await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: values.json, tasks: { scope: 'own', execute: false } }, async (cli) => {
    // Placement `workers`: a workbench window or serve mode sharing the store leaves it to them.
    const started =
      resumeRun !== null
        ? await cli.call('training.resume', { runId: resumeRun, placement: 'workers' })
        : await cli.call('training.start', { config: config!, placement: 'workers' });
    const { runId, taskId } = started;
    if (values.json) printJson({ type: 'queued', runId, taskId });
    else process.stderr.write(`Run ${runId} queued for the workers (task ${taskId}). Ctrl-C ${values.cancel ? 'stops it' : 'detaches; the run continues'}.\n`);
    const follower = new QueuedRunFollower(
      cli.workbench.services.store,
      runId,
      taskId,
      {
        started: (line) => {
          if (values.json) printJson(line);
          else process.stderr.write(`Run ${runId} taken by ${line.worker} on ${line.host}${line.backend ? ` (${line.backend})` : ''}.\n`);
        },
        epoch: (line) => {
          if (values.json) printJson(line);
          else process.stdout.write(formatEpochLine(line));
        },
      },
      !values.json,
    );
    let detached = false;
    let interrupts = 0;
    const onInterrupt = () => {
      interrupts += 1;
      if (interrupts > 1) process.exit(130);
      follower.done();
      if (values.cancel) {
        process.stderr.write('\nStopping the run after its current step (it saves a checkpoint)…\n');
        void cli.call('training.stop', { runId }).catch(() => undefined);
      } else {
        detached = true;
      }
    };
    process.on('SIGINT', onInterrupt);
    try {
      for (;;) {
        const task = await follower.poll();
        if (detached) {
          if (values.json) printJson({ type: 'detached', runId, taskId });
          else process.stderr.write(`\nDetached. Run ${runId} continues on the workers; see it with: captioner runs show ${runId}\n`);
          return;
        }
        if (!task || isFinalTaskState(task.state)) break;
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      follower.done();
      const finished = await cli.workbench.services.training.finished(runId);
      if (values.json) printJson({ type: 'final', ...finished });
      else process.stdout.write(formatFinished(finished));
      const failure = unfinished(finished);
      if (failure) throw new CliError(failure.message, failure.exitCode, true);
    } finally {
      process.off('SIGINT', onInterrupt);
    }
  });
}

/**
 * Why a run that ended did not complete, and the exit code: 1 when it failed
 * or crashed, 130 when it was stopped (Ctrl-C or `training.stop`). A run that
 * completed, stopped early or was pruned did what it was asked.
 */
export function unfinished(finished: TrainingFinished): { message: string; exitCode: number } | null {
  if (finished.status === 'failed' || finished.status === 'crashed') {
    return { message: `Run ${finished.runId} ${finished.status}: ${finished.error ?? 'no reason given'}`, exitCode: 1 };
  }
  if (finished.status === 'stopped') {
    return { message: `Run ${finished.runId} stopped before it completed; continue with: captioner train --resume ${finished.runId}`, exitCode: 130 };
  }
  return null;
}

/** The RunConfig a `captioner train` command line describes (without --resume). */
export function trainConfigFromArgs(argv: string[]): RunConfig {
  return buildConfig(parse(argv, options, usage).values);
}

/** The RunConfig from --config or --preset, with the flags and --set applied, validated. */
export function buildConfig(values: Values): RunConfig {
  let base: Record<string, unknown>;
  if (values.config) {
    const file = resolve(values.config);
    try {
      base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (error) {
      throw new CliError(`${file}: cannot read the config: ${(error as Error).message}`, 2);
    }
    if (typeof base !== 'object' || base === null || Array.isArray(base)) throw new CliError(`${file}: a RunConfig must be a JSON object.`, 2);
    if (values.preset) throw new CliError('Give either --config or --preset, not both.', 2);
  } else {
    const preset = values.preset ?? 'shapes-quick';
    if (!isPresetId(preset)) throw new CliError(`Unknown preset "${preset}". Presets: ${presetIds.join(', ')}.`, 2);
    base = presets[preset].config as Record<string, unknown>;
  }
  const flags: Record<string, unknown> = {};
  const put = (path: string, value: unknown) => setPath(flags, path, value);
  if (values.dataset !== undefined) put('dataset.path', resolve(values.dataset));
  if (values.epochs !== undefined) put('training.epochs', intOption(values.epochs, 'epochs', 0));
  if (values['batch-size'] !== undefined) {
    put('training.batchSize', values['batch-size'] === 'auto' ? 'auto' : intOption(values['batch-size'], 'batch-size', 0));
  }
  if (values.seed !== undefined) put('training.seed', intOption(values.seed, 'seed', 0));
  if (values.name !== undefined) put('name', values.name);
  const merged = mergeConfig(base, flags, overridesFromAssignments(values.set ?? []));
  if (values.config && typeof (merged.dataset as { path?: unknown } | undefined)?.path === 'string' && values.dataset === undefined) {
    // A relative dataset path in a config file is relative to the file.
    const dataset = merged.dataset as { path: string };
    dataset.path = resolve(resolve(values.config, '..'), dataset.path);
  }
  const checked = validateRunConfig(merged);
  if (!checked.ok) {
    const hint = checked.issues.some((issue) => issue.path === 'dataset' || issue.path === 'dataset.path') ? '\nGive the dataset with --dataset PATH.' : '';
    throw new CliError(`Invalid configuration:\n${checked.issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}${hint}`, 2);
  }
  return checked.config;
}

function epochLine(epoch: TrainingEpochEvent) {
  return {
    type: 'epoch',
    runId: epoch.runId,
    epoch: epoch.epoch,
    epochs: epoch.epochs,
    globalStep: epoch.globalStep,
    trainLoss: epoch.trainLoss,
    valLoss: epoch.valLoss,
    bleu4: epoch.bleu4,
    ciderD: epoch.ciderD,
    learningRate: epoch.learningRate,
    seconds: epoch.seconds,
    improved: epoch.improved,
    bestEpoch: epoch.bestEpoch,
  };
}

function formatEpoch(epoch: TrainingEpochEvent): string {
  const lines = [
    `epoch ${epoch.epoch}/${epoch.epochs}  train loss ${epoch.trainLoss.toFixed(4)}  val loss ${epoch.valLoss.toFixed(4)}  ` +
      `BLEU-4 ${epoch.bleu4.toFixed(4)}  CIDEr-D ${epoch.ciderD.toFixed(4)}  lr ${epoch.learningRate.toExponential(2)}  ` +
      `${formatDuration(epoch.seconds)}${epoch.improved ? '  (best so far)' : ''}`,
  ];
  for (const sample of epoch.samples.slice(0, 3)) lines.push(`    ${sample.imageId}: ${sample.caption || '(empty)'}`);
  return `${lines.join('\n')}\n`;
}

function formatFinished(finished: TrainingFinished): string {
  const lines = [
    `Run ${finished.runId} ${finished.status}${finished.outcome === 'early-stopped' ? ' (early stopping)' : finished.outcome === 'pruned' ? ' (pruned)' : ''} after ${finished.epochsCompleted} epochs, ${finished.globalStep} steps.`,
  ];
  if (finished.validation) {
    const v = finished.validation;
    lines.push(`Validation: loss ${v.valLoss.toFixed(4)}, BLEU-4 ${v.bleu4.toFixed(4)}, CIDEr-D ${v.ciderD.toFixed(4)}.`);
  }
  if (finished.checkpoint) lines.push(`Checkpoint: ${finished.checkpoint}`);
  if (finished.bestCheckpoint) lines.push(`Best:       ${finished.bestCheckpoint}`);
  if (finished.status === 'stopped') lines.push(`Resume with: captioner train --resume ${finished.runId}`);
  return `${lines.join('\n')}\n`;
}

function formatEstimate(estimate: TrainingEstimate, config: RunConfig): string {
  const fit = budgetFit(config, estimate.secondsPerEpoch);
  const lines = [
    `Backend          ${estimate.backend} (${estimate.device})`,
    `Batch size       ${estimate.batchSize}`,
    `Steps per epoch  ${estimate.stepsPerEpoch} (${estimate.trainCaptions} captions)`,
    `Per step         ${(estimate.secondsPerStep * 1000).toFixed(0)} ms, ${Math.round(estimate.tokensPerSecond)} tokens/s`,
    `Per epoch        ${formatDuration(estimate.secondsPerEpoch)} (training steps only; validation adds to it)`,
    `Weights          ${estimate.parameters.toLocaleString('en-US')}`,
    ...(fit ? [`Time budget      ${describeBudgetFit(fit)}`] : []),
    ...estimate.warnings.map((warning) => `Warning          ${warning}`),
  ];
  return `${lines.join('\n')}\n`;
}
