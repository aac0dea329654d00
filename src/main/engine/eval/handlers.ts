/** Engine methods for scoring and evaluation. */
import type { ScoreReport } from '../../../shared/inferenceTypes';
import type { EngineContext } from '../protocol';
import { scoreFiles, type ScoreFilesRequest } from './scoreFiles';

export const evalEngineHandlers = {
  /** Reads, tokenizes and scores in the engine: a COCO-sized file takes seconds the UI should not wait on. */
  async 'eval.score'(params: ScoreFilesRequest, ctx: EngineContext): Promise<ScoreReport> {
    ctx.progress({ stage: 'scoring', done: 0, total: 1 });
    const report = await scoreFiles(params);
    ctx.progress({ stage: 'scoring', done: 1, total: 1 });
    return report;
  },
};
