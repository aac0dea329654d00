/**
 * Same images, several models: the captions that evaluations of different
 * runs (or checkpoints, or decodings) on one split wrote for each image they
 * all captioned, with the words that differ marked, how much the captions
 * disagree, and how far apart the chosen score is; sorted and paged.
 */
import { ApiError } from '../../shared/errors';
import type { CaptionComparison, CaptionRow, CaptionSort, ComparedEvaluation } from '../../shared/contract/compare';
import type { EvaluationItem, EvaluationRecord } from '../../shared/storeTypes';
import type { ExperimentStore } from '../store';
import { compareCaptions } from './wordDiff';

export interface CaptionsRequest {
  evaluationIds: number[];
  sort: CaptionSort;
  metric: string;
  limit: number;
  offset: number;
}

async function loadEvaluations(store: ExperimentStore, ids: readonly number[]): Promise<EvaluationRecord[]> {
  if (new Set(ids).size !== ids.length) {
    throw new ApiError('invalid_request', 'evaluationIds: each evaluation may be chosen once.', [{ path: 'evaluationIds', message: 'repeated id' }]);
  }
  const evaluations: EvaluationRecord[] = [];
  for (const id of ids) {
    const evaluation = await store.evaluations.get(id);
    if (!evaluation) throw new ApiError('not_found', `No evaluation with id ${id}.`);
    evaluations.push(evaluation);
  }
  const splits = [...new Set(evaluations.map((evaluation) => evaluation.split))];
  if (splits.length > 1) {
    const which = evaluations.map((evaluation) => `#${evaluation.id}: ${evaluation.split}`).join(', ');
    throw new ApiError('invalid_request', `evaluationIds: the evaluations must be on the same split (${which}).`, [
      { path: 'evaluationIds', message: 'different splits' },
    ]);
  }
  return evaluations;
}

async function describe(store: ExperimentStore, evaluation: EvaluationRecord): Promise<ComparedEvaluation> {
  const run = evaluation.runId === null ? null : await store.runs.get(evaluation.runId);
  let checkpointEpoch: number | null = null;
  if (run && evaluation.checkpointId !== null) {
    checkpointEpoch = (await store.checkpoints.list(run.id)).find((checkpoint) => checkpoint.id === evaluation.checkpointId)?.epoch ?? null;
  }
  return { ...evaluation, runName: run?.name ?? null, checkpointEpoch };
}

const byImage = (a: CaptionRow, b: CaptionRow) => (a.imageId < b.imageId ? -1 : a.imageId > b.imageId ? 1 : 0);

const ORDER: Record<CaptionSort, (a: CaptionRow, b: CaptionRow) => number> = {
  disagreement: (a, b) => b.disagreement - a.disagreement || b.spread - a.spread || byImage(a, b),
  spread: (a, b) => b.spread - a.spread || b.disagreement - a.disagreement || byImage(a, b),
  image: byImage,
};

/** Rows for the images every evaluation has, in image-id order; `spread` is for `metric`. */
export function captionRows(evaluationIds: readonly number[], itemLists: ReadonlyArray<readonly EvaluationItem[]>, metric: string): CaptionRow[] {
  const lookups = itemLists.map((items) => new Map(items.map((item) => [item.imageId, item])));
  const rows: CaptionRow[] = [];
  for (const first of itemLists[0] ?? []) {
    const items = lookups.map((lookup) => lookup.get(first.imageId));
    if (items.some((item) => item === undefined)) continue;
    const present = items as EvaluationItem[];
    const agreement = compareCaptions(present.map((item) => item.caption));
    rows.push({
      imageId: first.imageId,
      imagePath: present.find((item) => item.imagePath)?.imagePath ?? null,
      references: first.references,
      captions: present.map((item, index) => ({
        evaluationId: evaluationIds[index]!,
        caption: item.caption,
        words: agreement.words[index]!,
        scores: item.scores,
      })),
      disagreement: agreement.disagreement,
      spread: spreadOf(present.map((item) => item.scores), metric),
    });
  }
  return rows;
}

function spreadOf(scores: ReadonlyArray<Record<string, number>>, metric: string): number {
  let low = Infinity;
  let high = -Infinity;
  let n = 0;
  for (const entry of scores) {
    const value = entry[metric];
    if (typeof value !== 'number') continue;
    n++;
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return n > 1 ? high - low : 0;
}

/**
 * Evaluations never change once stored, so the aligned rows of a set of
 * them are kept for the next pages and sorts, per store (keyed by ids and
 * creation times, so a deleted and re-used id cannot match). A few sets at most.
 */
const CACHED_SETS = 4;
const caches = new WeakMap<ExperimentStore, Map<string, CaptionRow[]>>();

async function rowsOf(store: ExperimentStore, evaluations: readonly EvaluationRecord[], metric: string): Promise<CaptionRow[]> {
  const key = evaluations.map((evaluation) => `${evaluation.id}@${evaluation.createdAt}`).join(',');
  let cache = caches.get(store);
  if (!cache) caches.set(store, (cache = new Map()));
  let rows = cache.get(key);
  if (!rows) {
    const itemLists = await Promise.all(evaluations.map((evaluation) => store.evaluations.items(evaluation.id)));
    rows = captionRows(
      evaluations.map((evaluation) => evaluation.id),
      itemLists,
      metric,
    );
    cache.set(key, rows);
    if (cache.size > CACHED_SETS) cache.delete(cache.keys().next().value!);
  } else {
    cache.delete(key);
    cache.set(key, rows);
  }
  // The spread depends on the metric asked for; the alignment does not.
  return rows.map((row) => ({ ...row, spread: spreadOf(row.captions.map((caption) => caption.scores), metric) }));
}

export async function compareEvaluationCaptions(store: ExperimentStore, request: CaptionsRequest): Promise<CaptionComparison> {
  const evaluations = await loadEvaluations(store, request.evaluationIds);
  const rows = await rowsOf(store, evaluations, request.metric);
  const identical = rows.filter((row) => row.disagreement === 0).length;
  const meanDisagreement = rows.length ? rows.reduce((sum, row) => sum + row.disagreement, 0) / rows.length : 0;
  rows.sort(ORDER[request.sort]);
  return {
    evaluations: await Promise.all(evaluations.map((evaluation) => describe(store, evaluation))),
    metric: request.metric,
    sort: request.sort,
    total: rows.length,
    identical,
    meanDisagreement,
    rows: rows.slice(request.offset, request.offset + request.limit),
  };
}
