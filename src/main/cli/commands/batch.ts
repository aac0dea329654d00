/** `captioner batch`: caption a folder as a resumable job; list and show jobs. */
import { resolve } from 'node:path';
import type { BatchJobResult, BatchJobSummary, BatchModelChoice, BatchProgress, SidecarOptions } from '../../../shared/batchTypes';
import type { CheckpointChoice } from '../../../shared/inferenceTypes';
import { isExistingPolicy } from '../../lib/batch/sidecar';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench, type CliContext } from '../context';
import { decodingFlags, decodingFromFlags, decodingUsage, recommendationNote, recommendedFlag, recommendedUsage, runRecommendation, withRecommendedDecoding } from '../decodingOptions';
import { formatDuration, progressPrinter } from '../progress';
import type { Command } from './types';
import { envMs } from './worker';

const usage = `Usage:
  captioner batch DIR --model PKG|--run ID [--checkpoint best|last|N] [--recursive]
                  [--include GLOB]... [--exclude GLOB]...
                  [--sidecar [--ext .txt] [--prefix S] [--suffix S] [--existing skip|overwrite|append]]
                  [--csv FILE] [--jsonl FILE] [--coco FILE] [decoding] [--batch-size N]
                  [--shard-size N] [--json]
  captioner batch ... --store URL --queue [--cancel] [--json]
  captioner batch --resume JOB [--queue [--cancel]] [--json]
  captioner batch list [--json]
  captioner batch show JOB [--json]

Captions every image of a folder as a durable job: results are stored as
they are made, so Ctrl-C (which stops after the current batch), a crash or
a restart loses nothing, and --resume captions exactly the images still
missing. Files that are not images are counted and skipped; unreadable
images are recorded with their reason.

The folder is split into shards of --shard-size images (default 500), each
a task that any process sharing the store may claim: a job run here takes
its shards one after the other while \`captioner worker\` processes on the
same store (--store, or CAPTIONER_STORE) take others. With --queue the job
is left to the workers entirely: this command creates it, follows its
progress with the same lines and exits when it ends; Ctrl-C then detaches
and leaves the job to the workers (with --cancel, Ctrl-C stops it).

  --model PKG           an imported model's name or a package folder
  --run ID              a training run's checkpoint, used as it is (--checkpoint best, last or an epoch);
                        the decoding flags its config recommends and this job goes without are named
  --recursive           include subfolders
  --include GLOB        only images whose path (relative to DIR) matches; repeatable
  --exclude GLOB        leave out images whose path matches; repeatable
  --sidecar             a caption file next to each image
    --ext EXT           its extension (default .txt)
    --prefix S, --suffix S   text around each caption
    --existing P        skip (default: leave the image alone), overwrite, or append
  --csv FILE, --jsonl FILE   one file with path, caption, score, model, decoding
  --coco FILE           COCO results JSON (image_id = path relative to DIR)
  --batch-size N        images per forward pass (default 16)
  --shard-size N        images per shard, the unit processes claim (default 500)
  --queue               queue the job for workers and follow it
  --cancel              with --queue: Ctrl-C stops the job instead of detaching
  --json                one JSON line per progress report and a final line
                        (job id, status, counts, output paths)

${decodingUsage.replace('(default: beam search, width 3)', "(default: the package's own settings, or beam search width 3)")}
${recommendedUsage} (with --run)

The exit code is 0 only when the job completed.`;

const options = {
  ...commonOptions,
  ...decodingFlags,
  ...recommendedFlag,
  model: { type: 'string' },
  run: { type: 'string' },
  checkpoint: { type: 'string', default: 'best' },
  recursive: { type: 'boolean', default: false },
  include: { type: 'string', multiple: true },
  exclude: { type: 'string', multiple: true },
  sidecar: { type: 'boolean', default: false },
  ext: { type: 'string' },
  prefix: { type: 'string' },
  suffix: { type: 'string' },
  existing: { type: 'string' },
  csv: { type: 'string' },
  jsonl: { type: 'string' },
  coco: { type: 'string' },
  'batch-size': { type: 'string' },
  'shard-size': { type: 'string' },
  resume: { type: 'string' },
  queue: { type: 'boolean', default: false },
  cancel: { type: 'boolean', default: false },
} as const;

type Values = ReturnType<typeof parse<typeof options>>['values'];

export const batchCommand: Command = {
  name: 'batch',
  summary: 'Caption a folder of images as a resumable job (caption files, CSV, JSONL, COCO)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, usage);
    const session = { dataDir: values['data-dir'], store: values.store, quiet: values.json };
    if (values.cancel && !values.queue) throw new CliError('--cancel goes with --queue (a job run here always stops on Ctrl-C).', 2);
    // Queued: this process only submits and follows; workers sharing the store run the job.
    const follow = values.queue ? { ...session, tasks: { scope: 'own' as const, execute: false } } : session;
    // --queue: for the workers only, so a workbench sharing the store leaves the job to them; a plain resume takes it back here.
    const placement = values.queue ? ('workers' as const) : ('here' as const);
    const runJob = (cli: CliContext, start: () => Promise<{ jobId: number; taskId: number | null }>) =>
      values.queue ? followQueued(cli, start, values.json, values.cancel) : runBatch(cli, start, values.json);
    const [first, ...rest] = positionals;
    if ((first === 'list' || first === 'show') && !values.model && !values.run) {
      if (first === 'list') {
        const jobs = await withWorkbench(session, (cli) => cli.call('batch.list', {}));
        if (values.json) for (const job of jobs) printJson(job);
        else process.stdout.write(formatJobList(jobs));
        return;
      }
      if (rest.length !== 1) throw new CliError(`Give one job id: captioner batch show JOB.\n\n${usage}`, 2);
      const jobId = intOption(rest[0], 'job', 0);
      const shown = await withWorkbench(session, async (cli) => ({
        job: await cli.call('batch.get', { jobId }),
        failures: await cli.call('batch.items', { jobId, failuresOnly: true, limit: 10_000 }),
      }));
      if (values.json) printJson({ ...shown.job, failures: shown.failures.items.map((item) => ({ path: item.path, error: item.error })) });
      else process.stdout.write(formatJob(shown.job, shown.failures.items));
      return;
    }
    if (values.resume !== undefined) {
      if (positionals.length > 0) throw new CliError(`--resume takes a job id and no folder.\n\n${usage}`, 2);
      const jobId = intOption(values.resume, 'resume', 0);
      const result = await withWorkbench(follow, (cli) => runJob(cli, () => cli.call('batch.resume', { jobId, placement })));
      finish(result, values.json);
      return;
    }
    if (positionals.length !== 1) throw new CliError(`Give one folder.\n\n${usage}`, 2);
    const request = createRequest(positionals[0]!, values);
    const result = await withWorkbench(follow, (cli) =>
      runJob(cli, async () => {
        // A package recommends nothing; a run's recommendation is read once, for --recommended and for the note.
        const recommended = 'runId' in request.model ? await runRecommendation(cli, request.model.runId) : null;
        const decoding = recommended && values.recommended ? withRecommendedDecoding(recommended, request.decoding) : request.decoding;
        const job = await cli.call('batch.create', { ...request, decoding, ...(values.queue ? { placement } : {}) });
        if (recommended && !values.json) process.stderr.write(recommendationNote(recommended, decoding));
        return { jobId: job.id, taskId: job.taskId };
      }),
    );
    finish(result, values.json);
  },
};

function createRequest(folder: string, values: Values) {
  if (Boolean(values.model) === Boolean(values.run)) throw new CliError(`Choose the model with one of --model PKG and --run ID.\n\n${usage}`, 2);
  if (values.recommended && values.model) throw new CliError('--recommended goes with --run: a package recommends no decoding.', 2);
  let model: BatchModelChoice;
  if (values.model) model = { package: values.model };
  else {
    const checkpoint: CheckpointChoice =
      values.checkpoint === 'best' || values.checkpoint === 'last' ? values.checkpoint : intOption(values.checkpoint, 'checkpoint', 0);
    model = { runId: intOption(values.run, 'run', 0), checkpoint };
  }
  const sidecarFlags = [values.ext, values.prefix, values.suffix, values.existing].some((value) => value !== undefined);
  if (sidecarFlags && !values.sidecar) throw new CliError('--ext, --prefix, --suffix and --existing go with --sidecar.', 2);
  if (values.existing !== undefined && !isExistingPolicy(values.existing)) throw new CliError(`--existing must be skip, overwrite or append (got "${values.existing}").`, 2);
  const sidecar: SidecarOptions | null = values.sidecar
    ? { ext: values.ext ?? '.txt', prefix: values.prefix ?? '', suffix: values.suffix ?? '', existing: (values.existing as SidecarOptions['existing'] | undefined) ?? 'skip' }
    : null;
  const file = (value: string | undefined) => (value === undefined ? null : resolve(value));
  const outputs = { sidecar, csv: file(values.csv), jsonl: file(values.jsonl), coco: file(values.coco) };
  if (!sidecar && !outputs.csv && !outputs.jsonl && !outputs.coco) throw new CliError(`Choose at least one output: --sidecar, --csv, --jsonl or --coco.\n\n${usage}`, 2);
  return {
    input: { folder: resolve(folder), recursive: values.recursive, include: values.include ?? [], exclude: values.exclude ?? [] },
    model,
    decoding: decodingFromFlags(values),
    outputs,
    batchSize: intOption(values['batch-size'], 'batch-size', 16),
    shardSize: intOption(values['shard-size'], 'shard-size', 500),
  };
}

interface BatchRunOutcome {
  result: BatchJobResult;
  error: string | null;
  interrupted: boolean;
  /** Ctrl-C left a queued job to the workers. */
  detached?: boolean;
}

/** One progress line (or bar update) in the form both ways of running a job print. */
function progressOutput(json: boolean, printer: ReturnType<typeof progressPrinter>) {
  return (progress: BatchProgress) => {
    if (json) printJson({ type: 'progress', ...progress });
    else {
      const rate = progress.imagesPerSecond !== null ? `${progress.imagesPerSecond.toFixed(1)} images/s` : '';
      printer.update({ stage: 'captioning', done: progress.done, total: progress.total, etaSeconds: progress.etaSeconds, message: rate });
    }
  };
}

/**
 * `--queue`: submit (or resume) the job for the workers and follow it through
 * the store, printing a progress line whenever its count of results moved
 * and the result line once its task ended. Ctrl-C detaches (the job goes on),
 * or with `cancel` stops the job and follows it to its end.
 */
async function followQueued(cli: CliContext, start: () => Promise<{ jobId: number; taskId: number | null }>, json: boolean, cancel: boolean): Promise<BatchRunOutcome> {
  const { store, tasks } = cli.workbench.services;
  const pollMs = envMs('CAPTIONER_POLL_MS', 1_000);
  const settling = tasks.crashSettling();
  const printer = progressPrinter(!json);
  const print = progressOutput(json, printer);
  const { jobId, taskId } = await start();
  if (taskId === null) throw new CliError(`Batch job ${jobId} has no task.`);
  if (json) printJson({ type: 'queued', jobId, taskId });
  else process.stderr.write(`Batch job ${jobId} queued for the workers (task ${taskId}). Ctrl-C ${cancel ? 'stops it' : 'detaches; the job continues'}.\n`);
  let interrupts = 0;
  let detached = false;
  let wake: (() => void) | null = null;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    printer.done();
    if (cancel) {
      process.stderr.write('\nStopping the job after the current batch of each shard…\n');
      void cli.call('batch.stop', { jobId }).catch(() => undefined);
    } else detached = true;
    wake?.();
  };
  process.on('SIGINT', onSigint);
  const started = performance.now();
  let firstDone: number | null = null;
  let lastDone = -1;
  try {
    for (;;) {
      const task = await store.tasks.get(taskId);
      const job = await cli.call('batch.get', { jobId });
      const done = job.counts.captioned + job.counts.skippedExisting + job.counts.failed;
      firstDone ??= done;
      if (done !== lastDone) {
        lastDone = done;
        const seconds = (performance.now() - started) / 1000;
        const rate = done > firstDone && seconds > 0 ? (done - firstDone) / seconds : null;
        const total = job.counts.total;
        print({ jobId, done, total, imagesPerSecond: rate, etaSeconds: rate && total !== null ? Math.max(0, total - done) / rate : null, counts: job.counts });
      }
      if (detached) {
        if (json) printJson({ type: 'detached', jobId, taskId });
        else process.stderr.write(`\nDetached. Batch job ${jobId} continues on the workers; see it with: captioner batch show ${jobId}\n`);
        return { result: { jobId, status: job.status, counts: job.counts, outputs: job.outputs, captionedNow: 0, seconds: (performance.now() - started) / 1000 }, error: null, interrupted: true, detached: true };
      }
      if (!task) throw new CliError(`Batch job ${jobId}'s task ${taskId} was deleted.`);
      const look = settling.look(task);
      if (look.requeued) {
        if (json) printJson({ type: 'requeued', jobId, taskId, error: look.requeued.error });
        else process.stderr.write(`\nBatch job ${jobId}: its worker stopped answering (${look.requeued.error ?? 'no reason recorded'}); another worker takes it over.\n`);
      }
      if (look.ended) {
        printer.done();
        const reported = task.result as unknown as BatchJobResult | null;
        const result: BatchJobResult = reported && typeof reported.jobId === 'number'
          ? { ...reported, status: job.status, counts: job.counts, outputs: job.outputs }
          : { jobId, status: job.status, counts: job.counts, outputs: job.outputs, captionedNow: 0, seconds: (performance.now() - started) / 1000 };
        return { result, error: task.state === 'failed' || task.state === 'crashed' ? (task.error ?? `The job ${task.state}.`) : null, interrupted: interrupts > 0 };
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, pollMs);
      });
      wake = null;
    }
  } finally {
    printer.done();
    process.off('SIGINT', onSigint);
  }
}

/**
 * Follows a job's task to its end (queued by `batch.create` or
 * `batch.resume`), printing its progress; Ctrl-C asks it to stop after the
 * current batch, leaving a resumable job.
 */
async function runBatch(cli: CliContext, start: () => Promise<{ jobId: number; taskId: number | null }>, json: boolean): Promise<BatchRunOutcome> {
  const { bus, tasks } = cli.workbench.services;
  const printer = progressPrinter(!json);
  const print = progressOutput(json, printer);
  let jobId: number | null = null;
  const detach = bus.attach((event, payload) => {
    if (event !== 'batch.progress') return;
    const progress = payload as BatchProgress;
    if (progress.jobId === jobId) print(progress);
  });
  let interrupted = false;
  let taskId: number | null = null;
  const onSigint = () => {
    if (interrupted || taskId === null) process.exit(130);
    interrupted = true;
    printer.done();
    process.stderr.write('\nStopping after the current batch… (Ctrl-C again to quit at once)\n');
    void tasks.stop(taskId).catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  try {
    const started = await start();
    jobId = started.jobId;
    taskId = started.taskId;
    if (taskId === null) throw new CliError(`Batch job ${jobId} has no task.`);
    const ended = await tasks.wait(taskId);
    printer.done();
    const summary = await cli.call('batch.get', { jobId });
    const reported = ended.result as unknown as BatchJobResult | null;
    return {
      result: reported ?? { jobId, status: summary.status, counts: summary.counts, outputs: summary.outputs, captionedNow: 0, seconds: 0 },
      error: ended.state === 'failed' || ended.state === 'crashed' ? (ended.error ?? `The job ${ended.state}.`) : null,
      interrupted,
    };
  } finally {
    printer.done();
    process.off('SIGINT', onSigint);
    detach();
  }
}

function finish(outcome: BatchRunOutcome, json: boolean): void {
  const { result } = outcome;
  // Detached from a queued job: it goes on without this command, which did what was asked.
  if (outcome.detached) return;
  if (json) printJson({ type: 'result', ...result, ...(outcome.error ? { error: outcome.error } : {}) });
  else process.stdout.write(formatResult(result));
  if (result.status === 'completed') return;
  if (outcome.error) throw new CliError(`Batch job ${result.jobId} failed: ${outcome.error}\nResume it with: captioner batch --resume ${result.jobId}`);
  throw new CliError(`Batch job ${result.jobId} ${result.status}; resume it with: captioner batch --resume ${result.jobId}`, outcome.interrupted ? 130 : 1);
}

function formatCounts(counts: BatchJobSummary['counts']): string {
  return `${counts.captioned} captioned, ${counts.skippedExisting} skipped (caption file exists), ${counts.failed} failed, ${counts.ignored} other files ignored${counts.excluded ? `, ${counts.excluded} excluded by globs` : ''}`;
}

function formatOutputs(outputs: BatchJobSummary['outputs']): string[] {
  return [
    outputs.sidecars ? `caption files: ${outputs.sidecars}` : '',
    outputs.csv ? `CSV: ${outputs.csv}` : '',
    outputs.jsonl ? `JSONL: ${outputs.jsonl}` : '',
    outputs.coco ? `COCO results: ${outputs.coco}` : '',
  ].filter(Boolean);
}

function formatResult(result: BatchJobResult): string {
  return [
    `Batch job ${result.jobId}: ${result.status} in ${formatDuration(result.seconds)} (${result.captionedNow} captioned now)`,
    formatCounts(result.counts),
    ...formatOutputs(result.outputs),
    '',
  ].join('\n');
}

function formatJobList(jobs: BatchJobSummary[]): string {
  if (jobs.length === 0) return 'No batch jobs.\n';
  const rows = jobs.map((job) => {
    const done = job.counts.captioned + job.counts.skippedExisting + job.counts.failed;
    return `${String(job.id).padStart(4)}  ${job.status.padEnd(9)}  ${`${done}/${job.counts.total ?? '?'}`.padEnd(13)}  ${job.options.input.folder}  (${job.modelLabel})`;
  });
  return `${['  id  status     done/total     folder (model)', ...rows].join('\n')}\n`;
}

function formatJob(job: BatchJobSummary, failures: { path: string; error: string | null }[]): string {
  const lines = [
    `Batch job ${job.id}: ${job.status}${job.error ? ` (${job.error})` : ''}`,
    `folder: ${job.options.input.folder}${job.options.input.recursive ? ' (recursive)' : ''}`,
    `model: ${job.modelLabel}`,
    `images: ${job.counts.total ?? 'not counted yet'}; ${formatCounts(job.counts)}`,
    ...formatOutputs(job.outputs),
  ];
  if (failures.length > 0) lines.push('', 'Failures:', ...failures.map((failure) => `  ${failure.path}: ${failure.error}`));
  return `${lines.join('\n')}\n`;
}
