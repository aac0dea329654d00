/**
 * The store this workbench uses and the processes seen working on it, for
 * the forms' "Run on" choice, the Jobs drawer and the System page. Loaded on
 * demand and refreshed when a page asks (a worker that starts later shows up
 * on the next refresh).
 */
import type { StoreInfo, WorkerSeen } from '../../../shared/contract/store';
import { api } from './api';

/** Workers count as seen when they worked on the store this recently. */
export const RECENT_MINUTES = 15;

function isFinishedCommand(worker: WorkerSeen): boolean {
  return worker.oneShot && worker.running.length === 0;
}

class StoreStatus {
  info = $state<StoreInfo | null>(null);
  workers = $state<WorkerSeen[]>([]);
  error = $state<string | null>(null);
  private loading: Promise<void> | null = null;

  /** Processes that run work for others (the app, serve mode, `captioner worker`), and one-shot commands still running. */
  get active(): WorkerSeen[] {
    return this.workers.filter((worker) => !isFinishedCommand(worker));
  }

  /** One-shot `captioner` commands that ran tasks here recently and have ended: no one to queue work for. */
  get finishedCommands(): WorkerSeen[] {
    return this.workers.filter(isFinishedCommand);
  }

  /** Processes other than this workbench seen recently that can still take work. */
  get others(): WorkerSeen[] {
    return this.active.filter((worker) => !worker.thisWorkbench);
  }

  /** Offer to queue work for the workers: the store is shared, or another process has worked on it. */
  get offerWorkers(): boolean {
    return (this.info?.shared ?? false) || this.others.length > 0;
  }

  refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const [info, workers] = await Promise.all([api.store.info({}), api.store.workers({ withinMinutes: RECENT_MINUTES })]);
        this.info = info;
        this.workers = workers;
        this.error = null;
      } catch (error) {
        this.error = error instanceof Error ? error.message : String(error);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }
}

export const storeStatus = new StoreStatus();
