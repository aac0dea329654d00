import { z } from 'zod';
import { PLACEMENT_CHOICES } from '../placement';
import type { TaskKind, TaskOwner } from '../taskTypes';
import { none, returns } from './spec';

// ─── the experiment store: which one, who shares it, where work runs ─────────

/** `placement` on training.start, tuning.create, batch.create and their resumes. */
export const placementChoice = z.enum(PLACEMENT_CHOICES);

/** Where the store in use was chosen. */
export type StoreSource = 'flag' | 'env' | 'settings' | 'default';

export interface StoreInfo {
  kind: 'sqlite' | 'postgres';
  /** The store in use, in words, never with its password. */
  description: string;
  /** Several machines can share it (PostgreSQL): the UI offers to queue work for the workers. */
  shared: boolean;
  /** `--store`, `CAPTIONER_STORE`, the desktop app's settings, or the default (SQLite). */
  source: StoreSource;
  /** This workbench's process, as it appears as a task owner. */
  self: TaskOwner;
  /** The desktop app's store setting; null in serve mode and the CLI (use --store or CAPTIONER_STORE there). */
  settings: {
    /** The settings file (under the app's user data folder). */
    file: string;
    /** The saved store, password masked: `sqlite` or a postgres:// URL; null when none is saved. */
    saved: string | null;
    /** The saved store differs from the one in use: it applies when the app starts again. */
    restartNeeded: boolean;
    /** CAPTIONER_STORE is set and wins over the setting. */
    overriddenByEnv: boolean;
    /** The settings file could not be read (its error, naming the file and field); the default store is used. */
    error: string | null;
  } | null;
}

/** A process seen working on the store recently (from task owners and heartbeats). */
export interface WorkerSeen {
  host: string;
  pid: number;
  /** Executor names within the process (`captioner worker --name`, `workbench`, ...). */
  names: string[];
  /** Newest heartbeat, start or end of one of its tasks. */
  lastSeenAt: string;
  /** Its tasks running or stopping now. */
  running: Array<{ taskId: number; kind: TaskKind; title: string }>;
  /** Tasks it ran within the window. */
  tasks: number;
  /** This workbench's own process. */
  thisWorkbench: boolean;
  /** A one-shot `captioner` command (synth, train, ...), not a worker others can queue for; `finished` once it runs nothing. */
  oneShot: boolean;
}

export const storeMethods = {
  'store.info': returns<StoreInfo>()(none, 'The experiment store in use (password masked), where it was chosen, and the desktop app’s saved setting.'),
  'store.configure': returns<StoreInfo>()(
    z
      .object({
        /** `sqlite` (the embedded default) or postgres://user:password@host:5432/database. */
        store: z.string().max(4096),
      })
      .strict(),
    'Save the store the desktop app opens at its next start: sqlite, or a postgres:// URL.',
  ),
  'store.workers': returns<WorkerSeen[]>()(
    z.object({ withinMinutes: z.number().int().min(1).max(7 * 24 * 60).default(15) }).strict(),
    'Processes seen running tasks on this store recently, with what they run now; newest first.',
  ),
} as const;
