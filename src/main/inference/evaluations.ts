/**
 * Evaluation as a job of the main process: the engine captions and scores,
 * then the main process (the only SQLite writer) stores the evaluation with
 * everything that produced it, and writes the captions as a COCO results
 * file next to it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecodingSettings, EvalSplit, EvaluationOutcome, EvaluationSummary, CheckpointChoice } from '../../shared/inferenceTypes';
import type { JsonObject } from '../../shared/storeTypes';
import { ApiError } from '../../shared/errors';
import type { Services } from '../api/services';
import { toCocoResults } from '../lib/eval/results';
import { resolveCheckpoint } from './checkpoints';

export interface EvaluationRequest {
  runId: number;
  checkpoint: CheckpointChoice;
  split: EvalSplit;
  dataset?: string | undefined;
  decoding: Partial<DecodingSettings>;
  limit: number;
  batchSize: number;
}

/** Where an evaluation's files live. */
export function evaluationDir(dataDir: string, evaluationId: number): string {
  return join(dataDir, 'evaluations', String(evaluationId));
}

export const resultsFileOf = (dataDir: string, evaluationId: number): string => join(evaluationDir(dataDir, evaluationId), 'results.json');

/** Plain JSON for the store's JSON columns. */
const asJson = (value: unknown): JsonObject => JSON.parse(JSON.stringify(value)) as JsonObject;

/** The aggregate row: every metric, and the grounded precisions when there are scenes. */
function aggregateOf(outcome: EvaluationOutcome): Record<string, number> {
  const aggregate: Record<string, number> = { ...outcome.aggregate };
  if (outcome.grounded) {
    for (const [name, score] of Object.entries(outcome.grounded.attributes)) {
      if (score.precision !== null) aggregate[`grounded.${name}`] = score.precision;
    }
    if (outcome.grounded.overall.precision !== null) aggregate['grounded.overall'] = outcome.grounded.overall.precision;
    if (outcome.grounded.objectRecall !== null) aggregate['grounded.objectRecall'] = outcome.grounded.objectRecall;
  }
  return aggregate;
}

export async function startEvaluation(services: Services, request: EvaluationRequest): Promise<{ jobId: string }> {
  const checkpoint = await resolveCheckpoint(services.store, request.runId, request.checkpoint);
  const run = (await services.store.runs.get(request.runId))!;
  const label = request.checkpoint === 'best' || request.checkpoint === 'last' ? request.checkpoint : `epoch ${request.checkpoint}`;
  const { jobId } = services.jobs.start('evaluation', `Evaluate ${run.name} (${label} checkpoint) on ${request.split}`, async (job): Promise<EvaluationSummary> => {
    const outcome = await services.engine.call(
      'eval.evaluate',
      {
        checkpointPath: checkpoint.path,
        datasetPath: request.dataset ?? null,
        split: request.split,
        decoding: request.decoding,
        limit: request.limit,
        batchSize: request.batchSize,
        dataDir: services.dataDir,
      },
      {
        signal: job.signal,
        onProgress: (progress) =>
          job.progress({ stage: progress.stage, done: progress.done, total: progress.total, etaSeconds: progress.etaSeconds ?? null, ...(progress.message ? { message: progress.message } : {}) }),
      },
    );
    // A cancel that arrived as the engine finished still means "do not keep this".
    if (job.signal.aborted) throw new ApiError('cancelled', 'The evaluation was cancelled; nothing was stored.');
    const dataset = await services.store.datasets.getByPath(outcome.dataset.path);
    const evaluation = await services.store.evaluations.create({
      runId: request.runId,
      checkpointId: checkpoint.id,
      datasetId: dataset?.id ?? null,
      split: request.split,
      decoding: asJson(outcome.decoding),
      metricDefinitions: asJson({
        ...outcome.metrics,
        tokenization: outcome.tokenization,
        grounded: outcome.grounded ? { scenesFile: outcome.grounded.scenesFile, report: outcome.grounded } : null,
        checkpoint: { path: checkpoint.path, epoch: checkpoint.epoch, step: checkpoint.step },
        dataset: outcome.dataset,
        failures: outcome.failures,
      }),
      aggregate: aggregateOf(outcome),
      items: outcome.items.map((item) => ({ ...item, scores: { ...item.scores } })),
    });
    const resultsPath = resultsFileOf(services.dataDir, evaluation.id);
    mkdirSync(evaluationDir(services.dataDir, evaluation.id), { recursive: true });
    writeFileSync(resultsPath, `${JSON.stringify(toCocoResults(outcome.items.map((item) => ({ imageId: item.imageId, caption: item.caption }))))}\n`);
    services.logger.log('info', `Evaluation ${evaluation.id} of run ${run.name}: CIDEr-D ${outcome.aggregate.ciderD.toFixed(3)}, BLEU-4 ${outcome.aggregate.bleu4.toFixed(3)} on ${outcome.items.length} ${request.split} images.`);
    return {
      evaluationId: evaluation.id,
      runId: request.runId,
      checkpointId: checkpoint.id,
      checkpointPath: checkpoint.path,
      split: request.split,
      images: outcome.items.length,
      failures: outcome.failures.length,
      decoding: outcome.decoding,
      aggregate: outcome.aggregate,
      grounded: outcome.grounded,
      resultsPath,
      seconds: outcome.seconds,
    };
  });
  return { jobId };
}
