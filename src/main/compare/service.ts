/**
 * The compare service: what the compare page asks of the experiment store,
 * behind one interface with its dependencies passed in. Reads first commit
 * the metrics training has buffered, so a running run's latest points show.
 */
import type { CaptionComparison, CompareCurves, CompareTable } from '../../shared/contract/compare';
import type { RunRecord } from '../../shared/storeTypes';
import type { ExperimentStore } from '../store';
import { notFound } from '../store/validate';
import { compareEvaluationCaptions, type CaptionsRequest } from './captions';
import { compareCurves, type CurvesRequest } from './curves';
import { compareTable } from './table';

export interface CompareService {
  table(runIds: number[], metrics?: string[]): Promise<CompareTable>;
  curves(runIds: number[], request: CurvesRequest): Promise<CompareCurves>;
  captions(request: CaptionsRequest): Promise<CaptionComparison>;
}

export interface CompareDependencies {
  store: ExperimentStore;
  /** Milliseconds since 1970; the duration of a running run ends now. */
  now?: () => number;
}

export class StoreCompareService implements CompareService {
  constructor(private readonly deps: CompareDependencies) {}

  /** The runs in the order asked for, each once; a missing one is `not_found`. */
  private async runs(runIds: readonly number[]): Promise<RunRecord[]> {
    await this.deps.store.metricWriter.flush();
    const unique = [...new Set(runIds)];
    return Promise.all(unique.map(async (runId) => (await this.deps.store.runs.get(runId)) ?? notFound('Run', runId)));
  }

  async table(runIds: number[], metrics?: string[]): Promise<CompareTable> {
    return compareTable(this.deps.store, await this.runs(runIds), metrics, (this.deps.now ?? Date.now)());
  }

  async curves(runIds: number[], request: CurvesRequest): Promise<CompareCurves> {
    return compareCurves(this.deps.store, await this.runs(runIds), request);
  }

  async captions(request: CaptionsRequest): Promise<CaptionComparison> {
    return compareEvaluationCaptions(this.deps.store, request);
  }
}
