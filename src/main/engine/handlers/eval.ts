/** Engine methods for scoring and evaluation. */
import type { EvaluationOutcome, ScoreReport } from '../../../shared/inferenceTypes';
import type { EngineContext } from '../protocol';
import { evaluateCheckpoint, type EvaluateParams } from '../../ml/eval/evaluate';
import { scoreFiles, type ScoreFilesRequest } from '../../lib/eval/scoreFiles';

/** Progress with an ETA from the pace of the current stage. */
function stageProgress(ctx: EngineContext): (stage: string, done: number, total: number | null) => void {
  let stageName = '';
  let stageStart = 0;
  return (stage, done, total) => {
    if (stage !== stageName) {
      stageName = stage;
      stageStart = performance.now();
    }
    const elapsed = (performance.now() - stageStart) / 1000;
    const etaSeconds = total !== null && done > 0 ? (elapsed / done) * (total - done) : null;
    ctx.progress({ stage, done, total, etaSeconds });
  };
}

export const evalEngineHandlers = {
  /** Reads, tokenizes and scores in the engine: a COCO-sized file takes seconds the UI should not wait on. */
  async 'eval.score'(params: ScoreFilesRequest, ctx: EngineContext): Promise<ScoreReport> {
    ctx.progress({ stage: 'scoring', done: 0, total: 1 });
    const report = await scoreFiles(params);
    ctx.progress({ stage: 'scoring', done: 1, total: 1 });
    return report;
  },

  /** Captions a split with a checkpoint and scores it; the main process stores the outcome. */
  async 'eval.evaluate'(params: EvaluateParams, ctx: EngineContext): Promise<EvaluationOutcome> {
    return evaluateCheckpoint(params, {
      signal: ctx.signal,
      progress: stageProgress(ctx),
      log: (message) => ctx.log('info', message),
    });
  },
};
