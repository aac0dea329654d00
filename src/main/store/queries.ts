/**
 * What the runs page, the live dashboard and the compare page ask for, built
 * from the storage interface alone, so every implementation answers them the
 * same way: runs with best/last metrics, a run's detail, a comparison
 * (aligned series plus config differences) and a full export.
 */
import type {
  CompareAxis,
  RunComparison,
  RunDetail,
  RunExport,
  RunList,
  RunRecord,
} from '../../shared/storeTypes';
import { diffConfigs } from './configDiff';
import type { ExperimentStore, MetricRequest, RunFilter } from './storage';
import { notFound } from './validate';

async function requireRun(store: ExperimentStore, runId: number): Promise<RunRecord> {
  return (await store.runs.get(runId)) ?? notFound('Run', runId);
}

/** A page of runs, each with best and last of the requested metrics. */
export async function listRunsWithMetrics(
  store: ExperimentStore,
  filter: RunFilter,
  metrics: MetricRequest[],
): Promise<RunList> {
  const { runs, total } = await store.runs.list(filter);
  const summaries = metrics.length ? await store.metrics.summaries(runs.map((run) => run.id), metrics) : new Map();
  return { runs: runs.map((run) => ({ ...run, metrics: summaries.get(run.id) ?? [] })), total };
}

export async function runDetail(store: ExperimentStore, runId: number): Promise<RunDetail> {
  const run = await requireRun(store, runId);
  const [metrics, checkpoints, artifacts, sampleEpochs] = await Promise.all([
    store.metrics.summaryOf(runId),
    store.checkpoints.list(runId),
    store.artifacts.list(runId),
    store.samples.epochs(runId),
  ]);
  return { ...run, metrics, checkpointCount: checkpoints.length, artifactCount: artifacts.length, sampleEpochs };
}

export interface CompareRequest {
  runIds: number[];
  /** Defaults to every key any of the runs logged. */
  keys?: string[];
  axis: CompareAxis;
  maxPoints: number;
}

/** Several runs side by side: one aligned series per key, and where their configs differ. */
export async function compareRuns(store: ExperimentStore, request: CompareRequest): Promise<RunComparison> {
  const runIds = [...new Set(request.runIds)];
  const runs = await Promise.all(runIds.map((runId) => requireRun(store, runId)));
  let keys = request.keys;
  if (!keys?.length) {
    const all = new Set<string>();
    for (const runId of runIds) for (const key of await store.metrics.keys(runId)) all.add(key);
    keys = [...all].sort();
  }
  const series = [];
  for (const key of keys) series.push(await store.metrics.aligned(runIds, key, request.axis, request.maxPoints));
  return { runs, series, configDiff: diffConfigs(runs.map((run) => ({ runId: run.id, config: run.config }))) };
}

/** Everything about one run as one JSON document: config, every metric point, files, samples, evaluations. */
export async function exportRun(store: ExperimentStore, runId: number, now = new Date()): Promise<RunExport> {
  const run = await requireRun(store, runId);
  const [metrics, checkpoints, artifacts, samples, evaluations] = await Promise.all([
    store.metrics.all(runId),
    store.checkpoints.list(runId),
    store.artifacts.list(runId),
    store.samples.list(runId),
    store.evaluations.list({ runId }),
  ]);
  const withItems = await Promise.all(
    evaluations.map(async (evaluation) => ({ ...evaluation, items: await store.evaluations.items(evaluation.id) })),
  );
  return {
    format: 'captioning-workbench.run',
    version: 1,
    exportedAt: now.toISOString(),
    run,
    metrics,
    checkpoints,
    artifacts,
    samples,
    evaluations: withItems,
  };
}
