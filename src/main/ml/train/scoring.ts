/**
 * The one place training asks for caption metrics: BLEU-4 and CIDEr-D from
 * the workbench's coco-caption implementation (src/main/metrics), so the
 * numbers seen during training are the numbers evaluation reports.
 */
import { bleu, ciderD, type ScoringItem } from '../../lib/metrics';

export interface ValidationScores {
  bleu4: number;
  ciderD: number;
}

export function scoreCaptions(items: readonly ScoringItem[]): ValidationScores {
  const scorable = items.filter((item) => item.references.length > 0);
  if (scorable.length === 0) return { bleu4: 0, ciderD: 0 };
  return { bleu4: bleu(scorable, 4).corpus[3] ?? 0, ciderD: ciderD(scorable).corpus };
}
