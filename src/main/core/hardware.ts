/** CPU, memory and GPU facts for `system.info`. */
import { execFile } from 'node:child_process';
import { cpus, freemem, totalmem } from 'node:os';
import type { SystemInfo } from '../../shared/types';

export function cpuInfo(): SystemInfo['cpu'] {
  const list = cpus();
  return { model: list[0]?.model.trim() ?? 'unknown', cores: list.length };
}

export function memoryInfo(): SystemInfo['memory'] {
  return { totalBytes: totalmem(), freeBytes: freemem() };
}

/** The first NVIDIA GPU as `nvidia-smi` reports it, or null when there is none. */
export function gpuInfo(): Promise<SystemInfo['gpu']> {
  return new Promise((resolve) => {
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,memory.total', '--format=csv,noheader,nounits'],
      { timeout: 3000 },
      (error, stdout) => {
        if (error) return resolve(null);
        const [name, memoryMiB] = stdout.split('\n')[0]?.split(',').map((s) => s.trim()) ?? [];
        if (!name) return resolve(null);
        const mib = Number(memoryMiB);
        resolve({ name, memoryBytes: Number.isFinite(mib) ? mib * 1024 * 1024 : null });
      },
    );
  });
}
