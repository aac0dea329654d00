/**
 * Explaining one caption: caption an image with a model exactly as
 * evaluation does (`decode` from ml/infer), then replay the decoder along
 * the chosen caption and along the beam's other finished captions to read,
 * word by word, the log-probability and the attention weights the decoder
 * used. The gallery's heatmaps and a playground's show these values as they
 * are; nothing is recomputed outside the engine.
 */
import type { CaptionExplanation, ExplainedCaption, ExplainModelRef } from '../../../shared/galleryTypes';
import type { DecodingSettings } from '../../../shared/inferenceTypes';
import { encodeImageFiles } from '../captioning/captionImages';
import { END_ID } from '../../lib/data/text/vocabulary';
import { completeDecoding, toDecodeOptions } from '../captioning/decoding';
import type { InferenceModel } from '../captioning/model';
import { checkDecoding, decodeViews, disposeViews, type ImageViews } from '../captioning/views';
import type { DecoderFeatures } from '../model/decoder';
import { explainModel } from './modelCache';
import { beamHypotheses } from './nbest';
import { replayCaption } from './replay';
import { diagnoseAttention, normalizedEntropy } from './uniformity';

export interface ExplainParams {
  model: ExplainModelRef;
  /** The image file to caption. */
  image: string;
  /** Decoding settings; left-out ones come from the defaults and the model's caption limit. */
  decoding: Partial<DecodingSettings>;
  /** Most captions returned: the chosen one and up to `alternatives - 1` others from the beam (beam search only). */
  alternatives: number;
  /** The workbench data directory (where pretrained backbones are cached). */
  dataDir: string;
}

export async function explainCaption(params: ExplainParams, hooks: { signal?: AbortSignal } = {}): Promise<CaptionExplanation> {
  const model = await explainModel(params.model, { dataDir: params.dataDir, ...(hooks.signal ? { signal: hooks.signal } : {}) });
  return explainWithModel(model, params.image, params.decoding, params.alternatives);
}

/** The same with a loaded model (tests, and callers that manage the model themselves). */
export async function explainWithModel(
  model: InferenceModel,
  image: string,
  partial: Partial<DecodingSettings>,
  alternatives: number,
): Promise<CaptionExplanation> {
  const started = performance.now();
  const decoding = completeDecoding(partial, model.maxCaptionLength);
  checkDecoding(model, decoding);
  const { features, mirrored } = await imageFeatures(model, image, decoding.mirrorConsensus === true);
  try {
    const options = toDecodeOptions(decoding);
    const [best] = decodeViews(model, { features, mirrored }, decoding);
    const sequences: { tokens: number[]; score: number }[] = [{ tokens: best!.tokens, score: best!.score }];
    if (options.strategy === 'beam' && alternatives > 1) {
      const key = best!.tokens.join(',');
      for (const hypothesis of beamHypotheses(model.decoder, features, options)) {
        if (sequences.length >= alternatives) break;
        if (hypothesis.tokens.join(',') !== key) sequences.push(hypothesis);
      }
    }
    const captions = sequences.map((sequence, index) => explained(model, features, sequence.tokens, sequence.score, index === 0));
    const hasAttention = model.decoder.needsGrid;
    const [gridRows, gridCols] = model.encoder.spec.gridShape;
    const chosenAttention = captions[0]!.words.flatMap((word) => (word.attention ? [word.attention] : []));
    return {
      image,
      decoding,
      variant: model.decoder.variant,
      hasAttention,
      grid: hasAttention ? { rows: gridRows, cols: gridCols } : null,
      fit: model.preprocessing.fit,
      captions,
      diagnosis: hasAttention ? diagnoseAttention(chosenAttention) : null,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    disposeViews({ features, mirrored });
  }
}

function explained(model: InferenceModel, features: DecoderFeatures, tokens: number[], score: number, chosen: boolean): ExplainedCaption {
  const replay = replayCaption(model.decoder, features, tokens);
  const ids = [...tokens, END_ID];
  const logProb = replay.tokenLogProbs.reduce((a, b) => a + b, 0);
  return {
    caption: model.vocabulary.decode(tokens).join(' '),
    words: ids.map((tokenId, t) => {
      const attention = replay.attention ? replay.attention[t]! : null;
      return {
        word: model.vocabulary.token(tokenId),
        tokenId,
        logProb: replay.tokenLogProbs[t]!,
        attention,
        uniformity: attention ? normalizedEntropy(attention) : null,
      };
    }),
    logProb,
    score,
    chosen,
  };
}

/** Encoder features of one image file (and of its mirror, with `mirror`), preprocessed as training and evaluation do. */
async function imageFeatures(model: InferenceModel, file: string, mirror: boolean): Promise<ImageViews> {
  const { features, mirrored, errors } = await encodeImageFiles(model, [file], undefined, mirror);
  if (!features) throw new Error(errors[0]?.message ?? `${file}: cannot read the image.`);
  return { features, mirrored };
}
