import { z } from 'zod';
import { returns } from './spec';
import { GALLERY_WORD_FIELDS, type CaptionExplanation, type GalleryPage, type GalleryReport } from '../galleryTypes';

// ─── the gallery: an evaluation's images, explanations, reports ──────────────

const evaluationIds = z.array(z.number().int().min(1)).min(1).max(20);

/** Sorting and filtering shared by the grid and the report. */
const galleryView = {
  evaluationIds,
  /** A per-image score key: bleu1..bleu4, rougeL, ciderD, grounded. */
  sort: z.string().min(1).max(100).default('ciderD'),
  /** Worst first by default. */
  direction: z.enum(['asc', 'desc']).default('asc'),
  word: z.string().trim().max(100).optional(),
  wordIn: z.enum(GALLERY_WORD_FIELDS).default('any'),
  split: z.string().min(1).max(100).optional(),
  /** A grounded attribute with a wrong claim (shape, color, ...), `any` or `none`. */
  groundedError: z.string().min(1).max(100).optional(),
};

export const galleryMethods = {
  'gallery.items': returns<GalleryPage>()(
    z
      .object({
        ...galleryView,
        offset: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(5000).default(200),
      })
      .strict(),
    "A page of evaluations' images: generated and reference captions, per-image scores and the grounded verdict; sorted by a score (worst first by default) and filtered by word, split and grounded error.",
  ),
  'gallery.explain': returns<CaptionExplanation>()(
    z
      .object({
        evaluationId: z.number().int().min(1),
        imageId: z.string().min(1).max(4096),
        /** Captions to return: the chosen one and the beam's best others. */
        alternatives: z.number().int().min(1).max(10).default(3),
      })
      .strict(),
    "Caption one image of an evaluation again with its checkpoint and decoding, with every word's attention over the image (attention models) and the beam's alternatives.",
  ),
  'gallery.report': returns<GalleryReport>()(
    z
      .object({
        ...galleryView,
        /** The HTML file to write; default: report.html in the first evaluation's folder. */
        out: z.string().min(1).max(4096).optional(),
        /** Images (in the gallery's order) whose per-word heatmaps are included. */
        heatmapImages: z.number().int().min(0).max(500).default(24),
        /** Most images in the report. */
        limit: z.number().int().min(1).max(20_000).default(2000),
      })
      .strict(),
    'Write the gallery as one self-contained HTML file (images, captions, scores, heatmaps) that opens without the workbench.',
  ),
} as const;
