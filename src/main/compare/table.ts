/**
 * The runs table: one column per run, a row per config setting (marked where
 * the runs differ) and per metric (best with its epoch, last, count).
 * Everything comes from a few store calls whatever the number of runs, so
 * fifty runs stay as quick as two.
 */
import type { CompareTable, ComparedRun, ConfigRow, MetricRow } from '../../shared/contract/compare';
import { metricGoal } from '../../shared/metricGoal';
import type { JsonPrimitive, RunRecord } from '../../shared/storeTypes';
import { flattenConfig } from '../store/configDiff';
import type { ExperimentStore } from '../store';

export function durationOf(run: RunRecord, now: number): number | null {
  if (!run.startedAt) return null;
  const end = run.finishedAt && run.status !== 'running' ? Date.parse(run.finishedAt) : now;
  return Math.max(0, end - Date.parse(run.startedAt));
}

export function comparedRun(run: RunRecord, now: number): ComparedRun {
  return {
    id: run.id,
    name: run.name,
    status: run.status,
    tags: run.tags,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: durationOf(run, now),
  };
}

/** Every config path of any run, sorted, with one value per run. */
export function configRows(runs: readonly RunRecord[]): ConfigRow[] {
  const flat = runs.map((run) => flattenConfig(run.config));
  const paths = new Set<string>();
  for (const config of flat) for (const path of config.keys()) paths.add(path);
  return [...paths].sort().map((path) => {
    const present = flat.map((config) => config.has(path));
    const values = flat.map((config) => (config.get(path) ?? null) as JsonPrimitive);
    const differs = present.some((has) => !has) || values.some((value) => !Object.is(value, values[0]));
    return { path, values, differs };
  });
}

export async function compareTable(
  store: ExperimentStore,
  runs: readonly RunRecord[],
  keys: readonly string[] | undefined,
  now: number,
): Promise<CompareTable> {
  const runIds = runs.map((run) => run.id);
  let metricKeys = keys ? [...keys] : undefined;
  if (!metricKeys) {
    const all = new Set<string>();
    for (const runId of runIds) for (const key of await store.metrics.keys(runId)) all.add(key);
    metricKeys = [...all].sort();
  }
  const summaries = metricKeys.length
    ? await store.metrics.summaries(runIds, metricKeys.map((key) => ({ key })))
    : new Map<number, never[]>();
  const metrics: MetricRow[] = metricKeys.map((key, index) => ({
    key,
    goal: metricGoal(key),
    cells: runIds.map((runId) => {
      const summary = summaries.get(runId)?.[index];
      return { best: summary?.best ?? null, last: summary?.last ?? null, count: summary?.count ?? 0 };
    }),
  }));
  return { runs: runs.map((run) => comparedRun(run, now)), config: configRows(runs), metrics };
}
