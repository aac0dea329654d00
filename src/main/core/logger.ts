/** Logs to stderr and to a ring buffer the System page reads, and emits `system.log`. */
import type { LogEntry, LogLevel } from '../../shared/types';
import type { EventBus } from './eventBus';

const CAPACITY = 5000;

export class Logger {
  private readonly entries: LogEntry[] = [];

  constructor(
    private readonly bus: EventBus | null,
    private readonly echo: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly minEchoLevel: LogLevel = 'info',
  ) {}

  log(level: LogLevel, message: string, source: LogEntry['source'] = 'main'): void {
    const entry: LogEntry = { time: new Date().toISOString(), level, source, message };
    this.entries.push(entry);
    if (this.entries.length > CAPACITY) this.entries.splice(0, this.entries.length - CAPACITY);
    if (rank(level) >= rank(this.minEchoLevel)) this.echo(`[${source}] ${level}: ${message}`);
    this.bus?.emit('system.log', entry);
  }

  info(message: string): void {
    this.log('info', message);
  }
  warn(message: string): void {
    this.log('warn', message);
  }
  error(message: string): void {
    this.log('error', message);
  }

  recent(limit: number): LogEntry[] {
    return this.entries.slice(-limit);
  }
}

function rank(level: LogLevel): number {
  return { debug: 0, info: 1, warn: 2, error: 3 }[level];
}
