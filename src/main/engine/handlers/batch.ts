/** Engine methods for batch captioning: caption a folder (or given images) and stream the results per batch. */
import { runCaptionJob, type CaptionJobOutcome, type CaptionJobParams, type CaptionJobReport } from '../../ml/batch/captionJob';
import type { EngineContext } from '../protocol';

export const batchEngineHandlers = {
  /**
   * Emits one `CaptionJobReport` per batch (its results and what the listing
   * passed over); a cancel stops after the batch in hand and answers
   * normally with `stopped: true`, after every report reached the caller.
   */
  async 'batch.caption'(params: CaptionJobParams, ctx: EngineContext<CaptionJobReport>): Promise<CaptionJobOutcome> {
    let done = params.done.length;
    return runCaptionJob(params, {
      signal: ctx.signal,
      report: (report) => {
        done += report.items.length;
        ctx.emit(report);
        ctx.progress({ stage: 'captioning', done, total: report.total });
      },
    });
  },
};
