/**
 * The evaluation domain: an evaluation is an `evaluation` task. The engine
 * captions and scores a split with a run's checkpoint, then the store keeps
 * the evaluation with everything that produced it (decoding, metric
 * definitions, tokenization, checkpoint, dataset), and the captions are
 * written as a COCO results file next to it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DecodingSettings, EvalSplit, EvaluationOutcome, EvaluationSummary, CheckpointChoice } from '../../shared/inferenceTypes';
import type { JsonObject } from '../../shared/storeTypes';
import { ApiError } from '../../shared/errors';
import { z } from 'zod';
import type { Logger } from '../core/logger';
import type { EngineSupervisor } from '../engine/supervisor';
import type { ExperimentStore } from '../store';
import { plainJson } from '../store/json';
import type { TaskRuntime } from '../tasks/runtime';
import type { TaskHandler } from '../tasks/types';
import { toCocoResults } from '../lib/eval/results';
import { resolveCheckpoint } from '../inference/checkpoints';

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

export interface EvaluationServiceDeps {
  dataDir: string;
  store: ExperimentStore;
  engine: EngineSupervisor;
  tasks: TaskRuntime;
  logger: Logger;
}

const checkpointChoice = z.union([z.literal('best'), z.literal('last'), z.number().int().min(0)]);
/** An evaluation task's params: the request as validated by the API, with the checkpoint it resolved to. */
const evaluationParams = z
  .object({
    runId: z.number().int().positive(),
    checkpoint: checkpointChoice,
    checkpointId: z.number().int().positive(),
    split: z.string().min(1),
    dataset: z.string().nullable(),
    decoding: z.record(z.string(), z.unknown()),
    limit: z.number().int().min(0),
    batchSize: z.number().int().positive(),
  })
  .strict();
type EvaluationParams = z.infer<typeof evaluationParams>;

export class EvaluationService {
  constructor(private readonly deps: EvaluationServiceDeps) {}

  /** Queues an evaluation of a run's checkpoint; follow the task for progress and its EvaluationSummary. */
  async start(request: EvaluationRequest): Promise<{ taskId: number }> {
    const { store, tasks } = this.deps;
    const checkpoint = await resolveCheckpoint(store, request.runId, request.checkpoint);
    const run = (await store.runs.get(request.runId))!;
    const label = request.checkpoint === 'best' || request.checkpoint === 'last' ? request.checkpoint : `epoch ${request.checkpoint}`;
    const task = await tasks.submit({
      kind: 'evaluation',
      title: `Evaluate ${run.name} (${label} checkpoint) on ${request.split}`,
      params: {
        runId: request.runId,
        checkpoint: request.checkpoint,
        checkpointId: checkpoint.id,
        split: request.split,
        dataset: request.dataset ?? null,
        decoding: request.decoding as JsonObject,
        limit: request.limit,
        batchSize: request.batchSize,
      },
      subject: { type: 'run', id: request.runId },
    });
    return { taskId: task.id };
  }

  taskHandler(): TaskHandler<EvaluationParams, EvaluationSummary> {
    return {
      kind: 'evaluation',
      parse: (params) => evaluationParams.parse(params),
      run: ({ params, signal, progress }) => this.evaluate(params, signal, (stage, done, total) => progress({ stage, done, total, unit: 'images' })),
      // Nothing is stored until the end, so there is nothing to continue: run it again.
      onCrash: 'none',
    };
  }

  private async evaluate(params: EvaluationParams, signal: AbortSignal, progress: (stage: string, done: number, total: number | null) => void): Promise<EvaluationSummary> {
    const { store, engine, dataDir, logger } = this.deps;
    const checkpoint = await resolveCheckpoint(store, params.runId, params.checkpoint);
    if (checkpoint.id !== params.checkpointId) {
      logger.warn(`Evaluation of run ${params.runId}: the ${String(params.checkpoint)} checkpoint changed since it was queued; evaluating the current one (${checkpoint.path}).`);
    }
    const run = (await store.runs.get(params.runId))!;
    const outcome = await engine.call(
      'eval.evaluate',
      {
        checkpointPath: checkpoint.path,
        datasetPath: params.dataset,
        split: params.split as EvalSplit,
        decoding: params.decoding as Partial<DecodingSettings>,
        limit: params.limit,
        batchSize: params.batchSize,
        dataDir,
      },
      { signal, onProgress: (p) => progress(p.stage, p.done, p.total) },
    );
    // A stop that arrived as the engine finished still means "do not keep this".
    if (signal.aborted) throw new ApiError('cancelled', 'The evaluation was cancelled; nothing was stored.');
    const dataset = await store.datasets.getByPath(outcome.dataset.path);
    const evaluation = await store.evaluations.create({
      runId: params.runId,
      checkpointId: checkpoint.id,
      datasetId: dataset?.id ?? null,
      split: params.split,
      decoding: plainJson(outcome.decoding),
      metricDefinitions: plainJson({
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
    const resultsPath = resultsFileOf(dataDir, evaluation.id);
    mkdirSync(evaluationDir(dataDir, evaluation.id), { recursive: true });
    writeFileSync(resultsPath, `${JSON.stringify(toCocoResults(outcome.items.map((item) => ({ imageId: item.imageId, caption: item.caption }))))}\n`);
    logger.log('info', `Evaluation ${evaluation.id} of run ${run.name}: CIDEr-D ${outcome.aggregate.ciderD.toFixed(3)}, BLEU-4 ${outcome.aggregate.bleu4.toFixed(3)} on ${outcome.items.length} ${params.split} images.`);
    return {
      evaluationId: evaluation.id,
      runId: params.runId,
      checkpointId: checkpoint.id,
      checkpointPath: checkpoint.path,
      split: params.split as EvalSplit,
      images: outcome.items.length,
      failures: outcome.failures.length,
      decoding: outcome.decoding,
      aggregate: outcome.aggregate,
      grounded: outcome.grounded,
      resultsPath,
      seconds: outcome.seconds,
    };
  }
}
