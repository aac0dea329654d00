/** Engine methods for batch captioning: caption a folder (or given images) and stream the results per batch. */
import { runCaptionJob, type CaptionJobOutcome, type CaptionJobParams } from '../../ml/batch/captionJob';
import type { EngineContext } from '../protocol';

export const batchEngineHandlers = {
  /**
   * Each progress report carries one batch's results in `data` (a
   * `CaptionJobReport`); a cancel stops after the batch in hand and answers
   * normally with `stopped: true`, so every result reached the caller.
   */
  async 'batch.caption'(params: CaptionJobParams, ctx: EngineContext): Promise<CaptionJobOutcome> {
    let done = params.done.length;
    return runCaptionJob(params, {
      signal: ctx.signal,
      report: (report) => {
        done += report.items.length;
        ctx.progress({ stage: 'captioning', done, total: report.total, data: report });
      },
    });
  },
};
