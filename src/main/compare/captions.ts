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

/** Rows for the images every evaluation has, in image-id order. */
export function captionRows(evaluationIds: readonly number[], itemLists: ReadonlyArray<readonly EvaluationItem[]>, metric: string): CaptionRow[] {
  const lookups = itemLists.map((items) => new Map(items.map((item) => [item.imageId, item])));
  const rows: CaptionRow[] = [];
  for (const first of itemLists[0] ?? []) {
    const items = lookups.map((lookup) => lookup.get(first.imageId));
    if (items.some((item) => item === undefined)) continue;
    const present = items as EvaluationItem[];
    const agreement = compareCaptions(present.map((item) => item.caption));
    const scores = present.map((item) => item.scores[metric]).filter((score): score is number => typeof score === 'number');
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
      spread: scores.length > 1 ? Math.max(...scores) - Math.min(...scores) : 0,
    });
  }
  return rows;
}

export async function compareEvaluationCaptions(store: ExperimentStore, request: CaptionsRequest): Promise<CaptionComparison> {
  const evaluations = await loadEvaluations(store, request.evaluationIds);
  const itemLists = await Promise.all(evaluations.map((evaluation) => store.evaluations.items(evaluation.id)));
  const rows = captionRows(request.evaluationIds, itemLists, request.metric);
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
