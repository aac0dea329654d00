/**
 * Batch captioning as a kind of task for the task runtime: its params name
 * the job; running it captions what the store says is missing; after a
 * crash the runtime queues it again at once (`resume`), and it continues
 * where it stopped.
 */
import { z } from 'zod';
import { ApiError } from '../../shared/errors';
import type { JsonObject } from '../../shared/storeTypes';
import type { TaskHandler } from '../tasks/types';
import type { BatchService } from './service';

const batchTaskParams = z.object({ jobId: z.number().int().min(1) }).strict();
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
      const result = await service.run(context.params.jobId, context);
      return { ...result } as unknown as JsonObject;
    },
  };
}
