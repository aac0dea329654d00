/**
 * The caption playground: which models one can try, storing an uploaded
 * image, and captioning one image with several models in turn, each answer
 * carrying what the engine's explain method reports (caption, alternatives,
 * attention per word) plus a confidence. One model failing does not stop
 * the others: its result carries the error instead.
 */
import { checkpointName } from '../../shared/checkpointName';
import { statSync } from 'node:fs';
import { ApiError } from '../../shared/errors';
import type { PlaygroundCaptions, PlaygroundCheckpoint, PlaygroundModelRef, PlaygroundModels, PlaygroundResult, UploadedImage } from '../../shared/contract/playground';
import type { CaptionExplanation, ExplainModelRef } from '../../shared/galleryTypes';
import type { DecodingSettings, ModelPackageInfo } from '../../shared/inferenceTypes';
import type { MediaRoots } from '../core/mediaRoots';
import { resolveCheckpoint } from '../inference/checkpoints';
import type { ExperimentStore } from '../store';
import { storeUpload } from './uploads';
import { recommendedConsensus } from '../../shared/recommendedDecoding';

export interface ExplainRequest {
  model: ExplainModelRef;
  image: string;
  decoding: Partial<DecodingSettings>;
  alternatives: number;
  dataDir: string;
}

export interface PlaygroundDependencies {
  dataDir: string;
  store: ExperimentStore;
  mediaRoots: MediaRoots;
  /** Imported packages (`models.list`). */
  listPackages(): ModelPackageInfo[];
  /** A package's folder from its imported name or a folder path; throws `not_found`. */
  resolvePackage(model: string): string;
  /** The engine's `explain.caption`. */
  explain(request: ExplainRequest): Promise<CaptionExplanation>;
}

/** Runs looked at for checkpoints, newest first. */
const RUNS_LISTED = 200;

/** exp(mean log p) over the chosen caption's steps (its words and `<end>`). */
export function confidenceOf(explanation: CaptionExplanation): number | null {
  const chosen = explanation.captions.find((caption) => caption.chosen) ?? explanation.captions[0];
  if (!chosen || chosen.words.length === 0) return null;
  return Math.exp(chosen.logProb / chosen.words.length);
}

export class PlaygroundService {
  constructor(private readonly deps: PlaygroundDependencies) {}

  upload(name: string, base64: string): UploadedImage {
    // Under the data directory, which the workbench serves as media from the start.
    return storeUpload(this.deps.dataDir, name, base64);
  }

  async models(): Promise<PlaygroundModels> {
    const packages = this.deps.listPackages().map((info) => ({
      name: info.name,
      variant: info.decoder.variant,
      strategy: info.decoding.strategy,
      evaluation: info.evaluation ? { split: info.evaluation.split, aggregate: info.evaluation.aggregate } : null,
    }));
    const { runs } = await this.deps.store.runs.list({ limit: RUNS_LISTED });
    const checkpoints: PlaygroundCheckpoint[] = [];
    for (const run of runs) {
      const list = await this.deps.store.checkpoints.list(run.id);
      const best = list.filter((checkpoint) => checkpoint.isBest).at(-1);
      const latest = await this.deps.store.checkpoints.latest(run.id);
      for (const checkpoint of [best, latest]) {
        if (!checkpoint || checkpoints.some((entry) => entry.checkpointId === checkpoint.id)) continue;
        checkpoints.push({
          runId: run.id,
          runName: run.name,
          status: run.status,
          checkpointId: checkpoint.id,
          epoch: checkpoint.epoch,
          step: checkpoint.step,
          isBest: checkpoint.isBest,
          metrics: checkpoint.metrics,
          recommended: recommendedConsensus(run.config),
        });
      }
    }
    return { packages, checkpoints };
  }

  /** The engine's model reference and a label for one requested model. */
  private async resolve(ref: PlaygroundModelRef): Promise<{ model: ExplainModelRef; label: string }> {
    if (ref.kind === 'package') return { model: { kind: 'package', dir: this.deps.resolvePackage(ref.name) }, label: ref.name };
    const checkpoint = await resolveCheckpoint(this.deps.store, ref.runId, ref.checkpoint);
    const run = (await this.deps.store.runs.get(ref.runId))!;
    return { model: { kind: 'checkpoint', path: checkpoint.path }, label: checkpointName({ runName: run.name, epoch: checkpoint.epoch, isBest: checkpoint.isBest }) };
  }

  /** The image must lie under a folder the workbench opened (uploads are under the data directory). */
  private requireImage(image: string): string {
    const resolved = this.deps.mediaRoots.resolve(image);
    if (!resolved || !statSync(resolved, { throwIfNoEntry: false })?.isFile()) {
      throw new ApiError('invalid_request', `image: ${image} is not a file under a folder the workbench opened; upload it instead.`, [{ path: 'image', message: 'not an opened file' }]);
    }
    return resolved;
  }

  async caption(request: { image: string; models: PlaygroundModelRef[]; decoding: Partial<DecodingSettings>; alternatives: number }): Promise<PlaygroundCaptions> {
    const image = this.requireImage(request.image);
    const results: PlaygroundResult[] = [];
    // One after another: the engine runs one call at a time and keeps the last model loaded.
    for (const ref of request.models) {
      let label = ref.kind === 'package' ? ref.name : `run ${ref.runId}`;
      try {
        const resolved = await this.resolve(ref);
        label = resolved.label;
        const explanation = await this.deps.explain({ model: resolved.model, image, decoding: request.decoding, alternatives: request.alternatives, dataDir: this.deps.dataDir });
        results.push({ model: ref, label, explanation, confidence: confidenceOf(explanation), error: null });
      } catch (error) {
        results.push({ model: ref, label, explanation: null, confidence: null, error: (error as Error).message });
      }
    }
    return { image, results };
  }
}
