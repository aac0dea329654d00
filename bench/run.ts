/**
 * `npm run bench -- NAME [args]`: runs bench/NAME.ts, which prints one JSON
 * line per result. Benchmarks live here, never in timed unit tests.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const available = readdirSync(__dirname)
    .filter((file) => file.endsWith('.ts') && file !== 'run.ts')
    .map((file) => file.slice(0, -3))
    .sort();
  if (!name || !available.includes(name)) {
    process.stderr.write(`Usage: npm run bench -- NAME [args]\nBenchmarks: ${available.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const bench = (await import(join(__dirname, `${name}.ts`))) as { run(args: string[]): Promise<void> };
  await bench.run(args);
}

void main();
