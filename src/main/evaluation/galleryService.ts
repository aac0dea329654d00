/**
 * The gallery of evaluations: their images with generated and reference
 * captions, per-image scores and (Shapes) grounded verdicts, sorted and
 * filtered; the explanation of one image's caption by the engine; and the
 * self-contained HTML report. Evaluations never change once stored, so
 * their items are kept for the next page.
 */
import type {
  CaptionExplanation,
  GalleryEvaluationSummary,
  GalleryItem,
  GalleryPage,
  GalleryQuery,
  GalleryReport,
} from '../../shared/galleryTypes';
import { ApiError } from '../../shared/errors';
import type { EvaluationRecord } from '../../shared/storeTypes';
import type { ExplainParams } from '../ml/explain/explainCaption';
import type { EvaluationStore } from '../store/storage';
import { evaluationDir } from './evaluationService';
import { queryItems, sortKeysOf } from './galleryQuery';
import { scenesOf, verdictOf } from './groundedVerdicts';
import { writeGalleryReport } from './report';

export interface GalleryDependencies {
  dataDir: string;
  evaluations: Pick<EvaluationStore, 'get' | 'items'>;
  /** The engine's `explain.caption`. */
  explain(params: ExplainParams): Promise<CaptionExplanation>;
}

/** What an evaluation's stored metric definitions say about how it was made (written by inference/evaluations.ts). */
interface StoredDefinitions {
  checkpoint?: { path?: string; epoch?: number };
  grounded?: { scenesFile?: string } | null;
}

const CACHED_EVALUATIONS = 4;

interface LoadedEvaluation {
  evaluation: EvaluationRecord;
  items: GalleryItem[];
  warnings: string[];
}

export class GalleryService {
  private readonly cache = new Map<number, LoadedEvaluation>();

  constructor(private readonly deps: GalleryDependencies) {}

  async items(query: GalleryQuery, page: { offset: number; limit: number }): Promise<GalleryPage> {
    const loaded = await Promise.all(query.evaluationIds.map((id) => this.load(id)));
    const all = loaded.flatMap((entry) => entry.items);
    const matching = queryItems(all, query);
    return {
      total: matching.length,
      offset: page.offset,
      items: matching.slice(page.offset, page.offset + page.limit),
      sortKeys: sortKeysOf(all),
      splits: [...new Set(loaded.map((entry) => entry.evaluation.split))].sort(),
      groundedErrorTypes: [...new Set(all.flatMap((item) => item.grounded?.errorTypes ?? []))].sort(),
      evaluations: loaded.map((entry) => summaryOf(entry.evaluation)),
      warnings: loaded.flatMap((entry) => entry.warnings),
    };
  }

  /** Captions one image of an evaluation again, with its checkpoint and decoding, explained word by word. */
  async explain(request: { evaluationId: number; imageId: string; alternatives: number }): Promise<CaptionExplanation> {
    const { evaluation, items } = await this.load(request.evaluationId);
    const item = items.find((candidate) => candidate.imageId === request.imageId);
    if (!item) throw new ApiError('not_found', `Evaluation ${evaluation.id} has no image "${request.imageId}".`);
    if (!item.imagePath) throw new ApiError('not_found', `Evaluation ${evaluation.id} stored no file for image "${request.imageId}".`);
    return this.deps.explain({
      model: { kind: 'checkpoint', path: checkpointPathOf(evaluation) },
      image: item.imagePath,
      decoding: evaluation.decoding as ExplainParams['decoding'],
      alternatives: request.alternatives,
      dataDir: this.deps.dataDir,
    });
  }

  /** Writes the gallery (in its current order and filters) as one HTML file. */
  async report(query: GalleryQuery, options: { out?: string | undefined; heatmapImages: number; limit: number }): Promise<GalleryReport> {
    const page = await this.items(query, { offset: 0, limit: options.limit });
    const out = options.out ?? `${evaluationDir(this.deps.dataDir, query.evaluationIds[0]!)}/report.html`;
    return writeGalleryReport({
      out,
      query,
      page,
      heatmapImages: options.heatmapImages,
      explain: (item) => this.explain({ evaluationId: item.evaluationId, imageId: item.imageId, alternatives: 1 }),
    });
  }

  private async load(id: number): Promise<LoadedEvaluation> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const evaluation = await this.deps.evaluations.get(id);
    if (!evaluation) throw new ApiError('not_found', `No evaluation with id ${id}.`);
    const stored = await this.deps.evaluations.items(id);
    const scenesFile = (evaluation.metricDefinitions as StoredDefinitions).grounded?.scenesFile ?? null;
    const warnings: string[] = [];
    let scenes: Awaited<ReturnType<typeof scenesOf>> | null = null;
    if (scenesFile) {
      try {
        scenes = await scenesOf(scenesFile);
      } catch (error) {
        // The dataset may have moved since: captions and scores still show.
        warnings.push(`Evaluation ${id}: no grounded verdicts, the Shapes scenes cannot be read (${(error as Error).message}).`);
      }
    }
    const items = stored.map((item): GalleryItem => {
      const grounded = scenes && item.imagePath ? verdictOf(scenes, item.imagePath, item.caption) : null;
      const scores = { ...item.scores, ...(grounded?.precision !== null && grounded?.precision !== undefined ? { grounded: grounded.precision } : {}) };
      return { evaluationId: id, split: evaluation.split, imageId: item.imageId, imagePath: item.imagePath, caption: item.caption, references: item.references, scores, grounded };
    });
    const entry = { evaluation, items, warnings };
    this.cache.set(id, entry);
    if (this.cache.size > CACHED_EVALUATIONS) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }
}

function checkpointPathOf(evaluation: EvaluationRecord): string {
  const path = (evaluation.metricDefinitions as StoredDefinitions).checkpoint?.path;
  if (!path) throw new ApiError('not_found', `Evaluation ${evaluation.id} does not record its checkpoint, so its captions cannot be explained.`);
  return path;
}

function summaryOf(evaluation: EvaluationRecord): GalleryEvaluationSummary {
  const definitions = evaluation.metricDefinitions as StoredDefinitions;
  return {
    id: evaluation.id,
    runId: evaluation.runId,
    split: evaluation.split,
    imageCount: evaluation.imageCount,
    aggregate: evaluation.aggregate,
    decoding: evaluation.decoding,
    checkpoint: definitions.checkpoint?.path ? { path: definitions.checkpoint.path, epoch: definitions.checkpoint.epoch ?? null } : null,
    grounded: Boolean(definitions.grounded?.scenesFile),
  };
}
