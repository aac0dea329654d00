import { z } from 'zod';
import { event, none, returns } from './spec';

import type { EngineStatus, LogEntry, SystemInfo } from '../types';

// ─── system ──────────────────────────────────────────────────────────────────

export const systemMethods = {
  'system.info': returns<SystemInfo>()(none, 'App, backend, hardware and library versions.'),
  'system.logs': returns<LogEntry[]>()(
    z.object({ limit: z.number().int().min(1).max(5000).default(500) }).strict(),
    'Recent log lines from the main process and the engine.',
  ),
  'engine.restart': returns<EngineStatus>()(none, 'Stop the engine process and start a new one.'),
} as const;


export const systemEvents = {
  'system.log': event<LogEntry>('A log line from the main process, the engine or the dataset process.'),
  'engine.status': event<EngineStatus>('The engine started, crashed or restarted.'),
} as const;
