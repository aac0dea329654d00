/**
 * Splits a batch job's folder into shards as the listing proceeds: every
 * `shardSize` images (in listing order) become a shard with its own queued
 * task, so workers start on the first shards while the folder is still being
 * listed, and memory holds one shard's paths at a time however large the
 * folder is. Each step stores the shard and the plan's cursor together, so a
 * planner that crashed lists again from the start, skips what its
 * predecessor consumed, and adds nothing twice.
 */
import type { BatchJobOptions } from '../../shared/batchTypes';
import { listFolder } from '../lib/batch/listFolder';
import type { ExperimentStore } from '../store';

/** Images per shard unless the job says otherwise. */
export const DEFAULT_SHARD_SIZE = 500;

/** Plans the rest of the job's listing; returns false when `signal` stopped it first (the plan stays resumable). */
export async function planShards(store: ExperimentStore, jobId: number, options: BatchJobOptions, signal: AbortSignal): Promise<boolean> {
  const plan = await store.batchJobs.plan(jobId);
  if (plan.planned) return true;
  const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
  let listed = 0;
  let ordinals = plan.ordinals;
  let shard = plan.shards;
  let ignored = 0;
  let excluded = 0;
  let images: string[] = [];
  let firstOrdinal = ordinals;

  const flush = async (listedUpTo: number) => {
    if (images.length > 0) {
      await store.batchJobs.addShard(jobId, { shard, firstOrdinal, images }, { listed: listedUpTo, ordinals: firstOrdinal + images.length, ignored, excluded });
      shard += 1;
      ignored = 0;
      excluded = 0;
    }
    images = [];
  };

  for await (const entry of listFolder(options.input, signal)) {
    if (signal.aborted) return false;
    listed += 1;
    // Consumed by an earlier planner of this job (the listing's order is stable).
    if (listed <= plan.listed) continue;
    if (entry.kind === 'ignored') ignored += 1;
    else if (entry.kind === 'excluded') excluded += 1;
    else if (entry.kind === 'unreadable') {
      // Ordinals of a shard are consecutive: the folder's place comes after the shard so far.
      await flush(listed - 1);
      await store.batchReview.record(
        jobId,
        [{ path: entry.path, relativePath: entry.relativePath, outcome: 'failed', caption: null, logProb: null, confidence: null, error: `unreadable folder: ${entry.reason}`, ordinal: ordinals }],
        { ignored: 0, excluded: 0, sidecarPending: false },
      );
      ordinals += 1;
      firstOrdinal = ordinals;
    } else {
      if (images.length === 0) firstOrdinal = ordinals;
      images.push(entry.path);
      ordinals += 1;
      if (images.length >= shardSize) await flush(listed);
    }
  }
  if (signal.aborted) return false;
  await flush(listed);
  await store.batchJobs.finishPlan(jobId, { listed, ordinals, ignored, excluded });
  return true;
}
