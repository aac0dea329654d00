/** `captioner runs list|show|delete|export` against a seeded data directory, in-process. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/main/cli';
import { databasePath, openDatabase } from '../../src/main/store/db';
import { openSqliteStore } from '../../src/main/store/sqliteStore';
import type { RunDeleted, RunDetail, RunExport, RunWithMetrics } from '../../src/shared/storeTypes';
import { tempDataDir } from '../helpers/storeFixtures';

let data: ReturnType<typeof tempDataDir>;
let ids: { small: number; large: number; running: number };

beforeEach(async () => {
  data = tempDataDir('runs-cli-');
  const store = openSqliteStore({ dataDir: data.dir });
  const make = async (name: string, units: number, finalLoss: number) => {
    const run = await store.runs.create({ name, config: { model: { lstmUnits: units } }, status: 'running', tags: ['cli'] });
    await store.metrics.append([
      { runId: run.id, key: 'val/loss', step: 10, epoch: 0, value: finalLoss + 1 },
      { runId: run.id, key: 'val/loss', step: 20, epoch: 1, value: finalLoss },
      { runId: run.id, key: 'other/thing', step: 20, epoch: 1, value: 7 },
    ]);
    const dir = await store.runs.directory(run.id);
    writeFileSync(join(dir, 'epoch-1.bin'), Buffer.alloc(64));
    await store.checkpoints.add({ runId: run.id, epoch: 1, step: 20, path: join(dir, 'epoch-1.bin') });
    return run.id;
  };
  const small = await make('small', 128, 2.5);
  await store.runs.setStatus(small, 'completed');
  const large = await make('large', 512, 1.5);
  await store.runs.setStatus(large, 'stopped');
  const running = (await store.runs.create({ name: 'busy', config: {}, status: 'running' })).id;
  ids = { small, large, running };
  await store.close();
});

afterEach(() => {
  vi.restoreAllMocks();
  data.remove();
});

async function captioner(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main([...argv, '--data-dir', data.dir]);
    return { code, stdout, stderr };
  } finally {
    vi.restoreAllMocks();
  }
}

const jsonLines = <T>(text: string): T[] => text.trim().split('\n').map((line) => JSON.parse(line) as T);

describe('captioner runs', () => {
  it('lists runs newest first with the headline metrics they logged', async () => {
    const { code, stdout } = await captioner('runs', 'list');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+status\s+created\s+epoch\s+val\/loss \(best↓\)\s+tags$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[1])).toEqual(['busy', 'large', 'small']);
    expect(lines[2]).toContain('1.5000 (last 1.5000)');
  });

  it('lists as JSON lines with the metrics asked for, filtered by status', async () => {
    const { code, stdout } = await captioner('runs', 'list', '--json', '--metric', 'val/loss', '--metric', 'other/thing', '--status', 'completed,stopped');
    expect(code).toBe(0);
    const runs = jsonLines<RunWithMetrics>(stdout);
    expect(runs.map((run) => run.name)).toEqual(['large', 'small']);
    expect(runs[1]?.metrics.map((metric) => [metric.key, metric.best?.value])).toEqual([
      ['val/loss', 2.5],
      ['other/thing', 7],
    ]);
  });

  it('shows one run, as text and as JSON', async () => {
    const text = await captioner('runs', 'show', String(ids.small));
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Run ${ids.small}: small`);
    expect(text.stdout).toMatch(/Checkpoint\s+epoch 1, step 20: .*epoch-1\.bin \(1 in all\)/);
    expect(text.stdout).toMatch(/val\/loss\s+min\s+2\.5000\s+1\/20/);
    const json = await captioner('runs', 'show', String(ids.small), '--json');
    const detail = JSON.parse(json.stdout) as RunDetail;
    expect(detail).toMatchObject({ id: ids.small, status: 'completed', config: { model: { lstmUnits: 128 } }, checkpointCount: 1 });
  });

  it('exports a run to a file', async () => {
    const out = join(data.dir, 'export.json');
    const { code, stdout } = await captioner('runs', 'export', String(ids.large), '--out', out);
    expect(code).toBe(0);
    expect(stdout).toContain('3 metric points');
    const exported = JSON.parse(readFileSync(out, 'utf8')) as RunExport;
    expect(exported.run.name).toBe('large');
    expect(exported.metrics['val/loss']?.map((point) => point.value)).toEqual([2.5, 1.5]);
  });

  it('deletes runs with their files, and needs --force for a running one', async () => {
    const dir = join(data.dir, 'runs', String(ids.small));
    expect(existsSync(dir)).toBe(true);
    const deleted = await captioner('runs', 'delete', String(ids.small), '--json');
    expect(deleted.code).toBe(0);
    expect(jsonLines<RunDeleted>(deleted.stdout)).toEqual([{ runId: ids.small, filesRemoved: 1 }]);
    expect(existsSync(dir)).toBe(false);

    const refused = await captioner('runs', 'delete', String(ids.running));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is running; stop it first, or delete it with force/);
    expect((await captioner('runs', 'delete', String(ids.running), '--force')).code).toBe(0);
    const left = jsonLines<RunWithMetrics>((await captioner('runs', 'list', '--json')).stdout);
    expect(left.map((run) => run.id)).toEqual([ids.large]);
  });

  it('explains bad input with a usage exit code', async () => {
    expect((await captioner('runs', 'show', 'abc')).stderr).toMatch(/"abc" is not a run id/);
    expect((await captioner('runs', 'show', '999')).stderr).toMatch(/Run 999 does not exist/);
    const unknown = await captioner('runs', 'rename');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown action "rename"/);
    expect((await captioner('runs', 'list', '--status', 'paused')).code).toBe(2);
  });

  it('refuses a database written by a newer release, saying what to do', async () => {
    const db = openDatabase(databasePath(data.dir));
    db.pragma('user_version = 42');
    db.close();
    const { code, stderr } = await captioner('runs', 'list');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^captioner runs: The database .*workbench\.db has schema version 42, .*update the workbench/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
