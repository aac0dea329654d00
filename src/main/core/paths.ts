/** Locations inside the installed app, the same from source, from out/ and from an asar. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding the workbench's package.json. */
export function appRoot(from: string = __dirname): string {
  let dir = from;
  for (let depth = 0; depth < 8; depth++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'captioning-workbench') return dir;
      } catch {
        // Unreadable manifest: keep looking upwards.
      }
    }
    dir = dirname(dir);
  }
  throw new Error(`Cannot find the workbench's package.json above ${from}.`);
}

/** The built renderer that serve mode hands to browsers. */
export function rendererDir(): string {
  return join(appRoot(), 'out', 'renderer');
}

/**
 * The engine's entry: the built bundle when this code runs built, the
 * TypeScript source (through tsx) when it runs from source, as under vitest.
 */
/** The entry of a worker process: the TensorFlow.js engine, or the plain-Node dataset process. */
export type WorkerProcess = 'engine' | 'datasets';

const SOURCE_ENTRY: Record<WorkerProcess, string> = { engine: 'entry.ts', datasets: 'datasetEntry.ts' };
const BUILT_ENTRY: Record<WorkerProcess, string> = { engine: 'engine.js', datasets: 'datasets.js' };

export function engineEntry(process: WorkerProcess = 'engine'): { entry: string; execArgv: string[] } {
  if (__filename.endsWith('.ts')) {
    return { entry: join(appRoot(), 'src', 'main', 'engine', SOURCE_ENTRY[process]), execArgv: ['--import', 'tsx'] };
  }
  return { entry: join(appRoot(), 'out', 'main', BUILT_ENTRY[process]), execArgv: [] };
}
