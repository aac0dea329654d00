/**
 * Batch captioning as a kind of task for the task runtime. A job's task
 * plans the job into shards, runs shards and writes the outputs at the end;
 * a shard's task captions what the store says is missing of its images.
 * After a crash the runtime queues either again at once (`resume`), and it
 * continues where it stopped.
 */
import { z } from 'zod';
import { ApiError } from '../../shared/errors';
import type { JsonObject } from '../../shared/storeTypes';
import type { TaskHandler } from '../tasks/types';
import type { BatchService } from './service';

/** A job's task names the job; a shard's task names its job and shard. */
const batchTaskParams = z.object({ jobId: z.number().int().min(1), shard: z.number().int().min(0).optional() }).strict();
export type BatchTaskParams = z.infer<typeof batchTaskParams>;

export function batchTaskHandler(service: BatchService): TaskHandler<BatchTaskParams> {
  return {
    kind: 'batch',
    onCrash: 'resume',
    parse(params: JsonObject): BatchTaskParams {
      const parsed = batchTaskParams.safeParse(params);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new ApiError('invalid_request', `Batch task params: ${issue.path.map(String).join('.') || '(params)'}: ${issue.message}`);
      }
      return parsed.data;
    },
    async run(context) {
      const { jobId, shard } = context.params;
      const result = shard === undefined ? await service.run(jobId, context) : await service.runShard(jobId, shard, context);
      return { ...result } as unknown as JsonObject;
    },
  };
}
