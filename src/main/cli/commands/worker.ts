/**
 * `captioner worker`: a process that runs queued work for a shared store.
 * It opens a workbench whose task runtime claims any queued task of the
 * kinds it runs (`scope: 'queue'`; claims are exclusive across machines),
 * including the work a user queued for the workers only (placement `workers`),
 * runs each in its own engine, heartbeats, and polls for work other
 * processes queue. Ctrl-C (or SIGTERM) stops claiming and stops the running
 * tasks after their current step: they save and end as stopped, so they can
 * be resumed (here or on any other worker). A worker killed outright is
 * noticed by its stale heartbeat, and its task follows its kind's crash rule.
 */
import { TASK_KINDS, type TaskKind, type TaskRecord } from '../../../shared/taskTypes';
import type { Logger } from '../../core/logger';
import type { ExperimentStore } from '../../store';
import { describeStore, resolveStoreSpec } from '../../store/openStore';
import { defaultOwner, type TaskRuntime } from '../../tasks/runtime';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import type { Command } from './types';

const usage = `Usage:
  captioner worker --store URL --data-dir SHARED_DIR [--kinds training,evaluation]
                   [--concurrency N] [--gpu N] [--name NAME] [--json]

Runs queued tasks from the store until Ctrl-C: work queued for anyone and
work queued for the workers only (\`captioner train --queue\`, "Run on:
workers" in the UI), which a workbench sharing the store leaves alone.
--store is the shared
PostgreSQL database (postgres://user:password@host:5432/database, or
CAPTIONER_STORE); --data-dir is the shared data directory every machine
mounts (checkpoints and outputs are stored relative to it).

--kinds       which task kinds to claim (default: every kind this worker
              can run: ${TASK_KINDS.join(', ')})
--concurrency compute tasks (training, evaluation, trials, batch) run at
              once in this worker (default 1: one model per device)
--gpu         the GPU this worker's engine uses (sets CUDA_VISIBLE_DEVICES)
--name        this worker's name in the store (default worker-<pid>)

Ctrl-C stops after the current step of each running task and leaves it
resumable; a second Ctrl-C quits at once. With --json, stdout gets one JSON
line per task this worker starts or ends.

Environment: CAPTIONER_HEARTBEAT_MS (default 2000), CAPTIONER_STALE_AFTER_MS
(default 60000: silence after which another worker crashes a task),
CAPTIONER_POLL_MS (default 1000: how often to look for new work).`;

const options = {
  ...commonOptions,
  kinds: { type: 'string' },
  concurrency: { type: 'string' },
  gpu: { type: 'string' },
  name: { type: 'string' },
} as const;

/** A positive integer from the environment, or the default; a bad value is an error naming it. */
export function envMs(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new CliError(`${name} must be a positive whole number of milliseconds (got "${text}").`, 2);
  return value;
}

export function parseKinds(text: string | undefined): TaskKind[] | undefined {
  if (text === undefined) return undefined;
  const kinds = text
    .split(',')
    .map((kind) => kind.trim())
    .filter(Boolean);
  if (kinds.length === 0) throw new CliError(`--kinds needs at least one of ${TASK_KINDS.join(', ')}.`, 2);
  for (const kind of kinds) {
    if (!TASK_KINDS.includes(kind as TaskKind)) throw new CliError(`--kinds: "${kind}" is not a task kind; kinds are ${TASK_KINDS.join(', ')}.`, 2);
  }
  return kinds as TaskKind[];
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Run queued training, evaluation, trials and batch jobs from a shared store until Ctrl-C',
  usage,
  async run(argv) {
    const { values } = parse(argv, options, usage);
    const kinds = parseKinds(values.kinds);
    const concurrency = intOption(values.concurrency, 'concurrency', 1);
    if (concurrency < 1 || concurrency > 64) throw new CliError('--concurrency must be from 1 to 64.', 2);
    if (values.gpu !== undefined) {
      const gpu = intOption(values.gpu, 'gpu', 0);
      if (gpu < 0) throw new CliError('--gpu must be a GPU index (0, 1, ...).', 2);
      // The engine process inherits it: TensorFlow then sees only this GPU.
      process.env.CUDA_VISIBLE_DEVICES = String(gpu);
    }
    const heartbeatMs = envMs('CAPTIONER_HEARTBEAT_MS', 2_000);
    const staleAfterMs = envMs('CAPTIONER_STALE_AFTER_MS', 60_000);
    const pollMs = envMs('CAPTIONER_POLL_MS', 1_000);
    if (staleAfterMs <= 2 * heartbeatMs) throw new CliError('CAPTIONER_STALE_AFTER_MS must be more than twice CAPTIONER_HEARTBEAT_MS, or live tasks look stale.', 2);
    const name = values.name ?? `worker-${process.pid}`;
    const owner = defaultOwner(name);

    await withWorkbench(
      {
        dataDir: values['data-dir'],
        store: values.store,
        quiet: values.json,
        tasks: {
          owner,
          scope: 'queue',
          // Work queued for the workers only, and work anyone may run.
          placements: ['any', 'workers'],
          ...(kinds ? { kinds } : {}),
          lanes: { compute: concurrency },
          heartbeatMs,
          staleAfterMs,
          watchdogMs: Math.max(250, Math.floor(staleAfterMs / 2)),
          pollMs,
        },
      },
      async (cli) => {
        const { bus, logger, store } = cli.workbench.services;
        const mine = (task: TaskRecord) => task.owner?.host === owner.host && task.owner.pid === owner.pid && task.owner.worker === owner.worker;
        const report = (type: string, task: TaskRecord) => {
          if (values.json) printJson({ type, worker: name, host: owner.host, taskId: task.id, kind: task.kind, title: task.title, state: task.state, subject: task.subject, error: task.error });
          else process.stderr.write(`${name}: ${type} task ${task.id} (${task.title})${task.error && type !== 'started' ? `: ${task.error}` : ''}\n`);
        };
        bus.attach((event, payload) => {
          if (event !== 'task.updated') return;
          const task = payload as TaskRecord;
          if (!mine(task)) return;
          if (task.state === 'running') report('started', task);
          else if (task.state !== 'stopping' && task.state !== 'queued') report('ended', task);
        });
        // Fail early and clearly when the store cannot be reached.
        await store.tasks.list({ limit: 1 }).catch((error: unknown) => {
          throw new CliError(`Cannot use the store ${describeStore(resolveStoreSpec(values.store))}: ${(error as Error).message}`);
        });
        logger.info(`Worker ${name} on ${owner.host} (pid ${owner.pid}) takes ${(kinds ?? ['every kind']).join(', ')}, ${concurrency} at a time.`);
        if (values.json) printJson({ type: 'ready', worker: name, host: owner.host, pid: owner.pid, kinds: kinds ?? null, concurrency });
        await new Promise<void>((resolve) => {
          let signals = 0;
          const onSignal = () => {
            signals += 1;
            if (signals > 1) {
              process.stderr.write('\nQuitting at once; running tasks will be found stale and follow their crash rule.\n');
              process.exit(130);
            }
            process.stderr.write(`\n${name}: stopping after the current step of each running task (Ctrl-C again to quit at once)…\n`);
            resolve();
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
        await handBack(cli.workbench.services.tasks, store, logger);
      },
    );
  },
};

/**
 * Stops the tasks running here after their current step (they save), then
 * queues again those this shutdown stopped, so another worker continues them
 * from where they saved. A task someone had asked to stop (stopping) stays
 * stopped.
 */
async function handBack(runtime: TaskRuntime, store: ExperimentStore, logger: Logger): Promise<void> {
  const running: TaskRecord[] = [];
  for (const task of runtime.runningHere()) {
    const current = await store.tasks.get(task.id);
    if (current?.state === 'running') running.push(current);
  }
  await runtime.close();
  for (const task of running) {
    const ended = await store.tasks.get(task.id);
    if (ended?.state !== 'cancelled') continue;
    await store.tasks.resume(task.id);
    logger.info(`Task ${task.id} (${task.title}) saved and handed back to the queue; another worker continues it.`);
  }
}
