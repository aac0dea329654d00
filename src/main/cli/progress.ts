/**
 * A one-line progress bar on stderr for a TTY, plain lines otherwise, and
 * nothing in `--json` mode (stdout stays machine-readable).
 */
import type { TaskProgress } from '../../shared/taskTypes';

export interface ProgressPrinter {
  update(progress: Pick<TaskProgress, 'stage' | 'done' | 'total' | 'etaSeconds' | 'message'>): void;
  done(): void;
}

export function progressPrinter(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressPrinter {
  let lastLine = '';
  let lastPlain = 0;
  return {
    update(progress) {
      if (!enabled) return;
      const line = formatProgress(progress, stream.isTTY ? (stream.columns ?? 80) : 120);
      if (stream.isTTY) {
        stream.write(`\r${line.padEnd(lastLine.length)}`);
        lastLine = line;
      } else if (Date.now() - lastPlain > 1000 || progress.done === progress.total) {
        stream.write(`${line}\n`);
        lastPlain = Date.now();
      }
    },
    done() {
      if (enabled && stream.isTTY && lastLine) stream.write('\n');
      lastLine = '';
    },
  };
}

export function formatProgress(
  progress: Pick<TaskProgress, 'stage' | 'done' | 'total' | 'etaSeconds' | 'message'>,
  width: number,
): string {
  const eta = progress.etaSeconds != null ? ` ETA ${formatDuration(progress.etaSeconds)}` : '';
  const message = progress.message ? ` ${progress.message}` : '';
  if (progress.total == null || progress.total <= 0) return `${progress.stage} ${progress.done}${eta}${message}`;
  const fraction = Math.min(1, progress.done / progress.total);
  const barWidth = Math.max(10, Math.min(30, width - 60));
  const filled = Math.round(fraction * barWidth);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}`;
  return `${progress.stage} ${bar} ${progress.done}/${progress.total} ${(fraction * 100).toFixed(0)}%${eta}${message}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
