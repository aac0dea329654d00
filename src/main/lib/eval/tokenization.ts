/**
 * The one tokenization evaluation uses, for candidates and references alike:
 * the datasets' `canonicalCaption` (coco-caption's PTBTokenizer rule:
 * lowercase, punctuation tokens removed), the same words training sees. Its
 * description is stored with every evaluation.
 */
import type { TokenizationInfo } from '../../../shared/inferenceTypes';
import { canonicalCaption } from '../data/text/tokenize';

export const EVAL_TOKENIZATION: TokenizationInfo = {
  name: 'ptb-like-v1',
  description:
    'NFKC, lowercase, PTB-style tokens (clitics split: "don\'t" -> "do n\'t"), coco-caption punctuation tokens removed; ' +
    'the workbench tokenizer used for training (src/main/engine/data/text/tokenize.ts).',
};

/** A caption as the metrics compare it: its tokens joined by single spaces. */
export function tokenizeForMetrics(caption: string): string {
  return canonicalCaption(caption);
}
