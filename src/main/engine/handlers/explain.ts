/** Engine method that explains a caption: attention per word and the beam's alternatives. */
import type { CaptionExplanation } from '../../../shared/galleryTypes';
import { explainCaption, type ExplainParams } from '../../ml/explain/explainCaption';
import type { EngineContext } from '../protocol';

export type { ExplainParams };

export const explainEngineHandlers = {
  /**
   * Captions one image with a checkpoint or a model package and returns,
   * for the chosen caption and up to `alternatives - 1` other beam captions,
   * every word with its log-probability and (attention decoders) the weights
   * over the encoder grid the decoder used for it. The model stays loaded
   * between calls.
   */
  async 'explain.caption'(params: ExplainParams, ctx: EngineContext): Promise<CaptionExplanation> {
    return explainCaption(params, { signal: ctx.signal });
  },
};
