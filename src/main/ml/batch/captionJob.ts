/**
 * One pass of a batch job inside the engine: list the folder lazily (or take
 * the images given), leave out what is already done, report images whose
 * caption file the `skip` policy protects, and caption the rest through the
 * pipeline. Results leave as they are made, one report per batch, so the
 * main process stores them before the next batch finishes; nothing is held
 * back for the end.
 */
import type { BatchItemOutcome, BatchModelSource } from '../../../shared/batchTypes';
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import { countImages, listFolder, type FolderSelection, type ListedEntry } from '../../lib/batch/listFolder';
import { sidecarPath, skippedForExisting } from '../../lib/batch/sidecar';
import type { InferenceModel } from '../captioning/model';
import { batchDecoding, batchModel } from './models';
import { captionPipeline, type PipelineImage } from './pipeline';

export interface CaptionJobParams {
  model: BatchModelSource;
  dataDir: string;
  decoding: Partial<DecodingSettings>;
  batchSize: number;
  /** A folder to list, or `images` to caption exactly those (preview, re-captioning). */
  input: FolderSelection | null;
  images: PipelineImage[] | null;
  /** Absolute paths already recorded: neither read nor reported again. */
  done: string[];
  /** The `skip` policy's caption-file extension: such images are reported as skipped, not captioned. */
  skipExistingExt: string | null;
  /**
   * Stop after this many images are captioned or failed (0 = all):
   * previews. Images the `skip` policy passes over are reported but do not
   * count, so a preview shows the images the job would caption.
   */
  limit: number;
}

export interface CaptionJobItem {
  path: string;
  relativePath: string;
  outcome: BatchItemOutcome;
  caption: string | null;
  logProb: number | null;
  confidence: number | null;
  error: string | null;
}

/** One report: the items of a batch and what the listing passed over since the previous one. */
export interface CaptionJobReport {
  items: CaptionJobItem[];
  ignored: number;
  excluded: number;
  /** Images in the selection (done ones included), once counted. */
  total: number | null;
}

export interface CaptionJobOutcome {
  decoding: DecodingSettings;
  /** Images reported in this pass. */
  reported: number;
  captioned: number;
  failed: number;
  skipped: number;
  ignored: number;
  excluded: number;
  total: number | null;
  /** True when the signal stopped it before the end. */
  stopped: boolean;
  seconds: number;
}

export interface CaptionJobHooks {
  signal: AbortSignal;
  report(report: CaptionJobReport): void;
}

/** Loads the job's model (kept for the next call) and runs the pass. */
export async function runCaptionJob(params: CaptionJobParams, hooks: CaptionJobHooks): Promise<CaptionJobOutcome> {
  const model = await batchModel(params.model, params.dataDir);
  return captionJob(model, batchDecoding(params.model, model, params.decoding), params, hooks);
}

/** The pass itself, with a loaded model and complete decoding settings. */
export async function captionJob(
  model: InferenceModel,
  decoding: DecodingSettings,
  params: Omit<CaptionJobParams, 'model' | 'dataDir' | 'decoding'>,
  hooks: CaptionJobHooks,
): Promise<CaptionJobOutcome> {
  const started = performance.now();
  const done = new Set(params.done);
  const outcome: CaptionJobOutcome = { decoding, reported: 0, captioned: 0, failed: 0, skipped: 0, ignored: 0, excluded: 0, total: null, stopped: false, seconds: 0 };
  let pendingSkipped: CaptionJobItem[] = [];
  let pendingIgnored = 0;
  let pendingExcluded = 0;
  const limit = params.limit > 0 ? params.limit : Infinity;
  let admitted = 0;

  if (params.input && params.limit === 0) {
    // Counting walks the folder once more without keeping names: cheap, and it gives progress a total.
    countImages(params.input, hooks.signal).then(
      (total) => (outcome.total = total),
      () => undefined,
    );
  }

  const flush = (items: CaptionJobItem[]) => {
    const all = pendingSkipped.length > 0 ? [...pendingSkipped, ...items] : items;
    pendingSkipped = [];
    for (const item of all) {
      outcome.reported += 1;
      if (item.outcome === 'captioned') outcome.captioned += 1;
      else if (item.outcome === 'failed') outcome.failed += 1;
      else outcome.skipped += 1;
    }
    outcome.ignored += pendingIgnored;
    outcome.excluded += pendingExcluded;
    hooks.report({ items: all, ignored: pendingIgnored, excluded: pendingExcluded, total: outcome.total });
    pendingIgnored = 0;
    pendingExcluded = 0;
  };

  async function* toCaption(): AsyncGenerator<PipelineImage> {
    const source: AsyncIterable<ListedEntry> | Iterable<ListedEntry> = params.images
      ? params.images.map((image): ListedEntry => ({ kind: 'image', ...image }))
      : listFolder(params.input!, hooks.signal);
    for await (const entry of source) {
      if (admitted >= limit || hooks.signal.aborted) return;
      if (entry.kind === 'ignored') pendingIgnored += 1;
      else if (entry.kind === 'excluded') pendingExcluded += 1;
      else if (entry.kind === 'unreadable') {
        admitted += 1;
        pendingSkipped.push(failedItem(entry, `unreadable folder: ${entry.reason}`));
      } else if (!done.has(entry.path)) {
        if (params.skipExistingExt !== null && skippedForExisting(entry.path, { ext: params.skipExistingExt, existing: 'skip' })) {
          pendingSkipped.push({
            path: entry.path,
            relativePath: entry.relativePath,
            outcome: 'skipped',
            caption: null,
            logProb: null,
            confidence: null,
            error: `caption file exists: ${sidecarPath(entry.path, params.skipExistingExt)}`,
          });
        } else {
          admitted += 1;
          yield { path: entry.path, relativePath: entry.relativePath };
        }
      }
      // Skipped images alone never reach the pipeline; report them in bounded groups.
      if (pendingSkipped.length >= params.batchSize * 4) flush([]);
    }
  }

  for await (const batch of captionPipeline(model, toCaption(), decoding, { batchSize: params.batchSize, signal: hooks.signal })) {
    flush(
      batch.map((result) => ({
        path: result.path,
        relativePath: result.relativePath,
        outcome: result.error ? 'failed' : 'captioned',
        caption: result.caption,
        logProb: result.logProb,
        confidence: result.confidence,
        error: result.error,
      })),
    );
  }
  if (pendingSkipped.length > 0 || pendingIgnored > 0 || pendingExcluded > 0) flush([]);
  outcome.stopped = hooks.signal.aborted;
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

function failedItem(entry: { path: string; relativePath: string }, error: string): CaptionJobItem {
  return { path: entry.path, relativePath: entry.relativePath, outcome: 'failed', caption: null, logProb: null, confidence: null, error };
}
