/**
 * What every CLI command shares: a workbench for the chosen data directory,
 * calls that go through the same validation as the UI's, and output helpers.
 */
import type { MethodName, RequestOf, ResponseOf } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import { dispatch } from '../api/handlers';
import { oneShotOwnerName } from '../tasks/oneShotOwner';
import { defaultOwner, type TaskRuntimeOptions } from '../tasks/runtime';
import { createWorkbench, type Workbench } from '../workbench';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** The command's `--json` output already states the failure (its final line), so none is added. */
    readonly reportedInJson = false,
  ) {
    super(message);
  }
}

export interface CliContext {
  workbench: Workbench;
  call<M extends MethodName>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>>;
}

/** The command being run (set by `main`), naming the tasks a one-shot command owns. */
let commandName = 'command';
export function setCommandName(name: string): void {
  commandName = name;
}

/** A one-shot command's tasks are owned by `captioner <command>`, so it does not pass for a long-lived worker. */
export function cliTaskOptions(tasks: TaskRuntimeOptions | undefined): TaskRuntimeOptions {
  const chosen = tasks ?? { scope: 'own' };
  if (chosen.owner || (chosen.scope ?? 'queue') !== 'own') return chosen;
  return { ...chosen, owner: defaultOwner(oneShotOwnerName(commandName)) };
}

/**
 * Runs `body` with a workbench and always shuts the engine down afterwards.
 * A command runs only the tasks it queues itself (`scope: 'own'`), never
 * other work waiting in the store's queue, unless it asks otherwise (a worker).
 */
export async function withWorkbench<T>(
  options: { dataDir?: string | null; store?: string | null; quiet?: boolean; tasks?: TaskRuntimeOptions },
  body: (context: CliContext) => Promise<T>,
): Promise<T> {
  const workbench = createWorkbench({ dataDir: options.dataDir ?? null, store: options.store ?? null, echoLogs: !options.quiet, tasks: cliTaskOptions(options.tasks) });
  const context: CliContext = {
    workbench,
    async call(method, request) {
      const envelope = await dispatch(workbench.handlers, method, request, { transport: 'cli' });
      if (!envelope.ok) throw ApiError.fromData(envelope.error);
      return envelope.value as ResponseOf<typeof method>;
    },
  };
  try {
    return await body(context);
  } finally {
    await workbench.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}
