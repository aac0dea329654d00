/**
 * An untrained inference model (scratch CNN + merge LSTM, random weights) for
 * batch captioning tests and the batch benchmark: it captions any image, so
 * pipeline and job logic can be checked without training first.
 */
import { Vocabulary } from '../../src/main/lib/data/text/vocabulary';
import { preprocessingOf, type InferenceModel } from '../../src/main/ml/captioning/model';
import { CaptionDecoder } from '../../src/main/ml/model/decoder';
import { ScratchCnn } from '../../src/main/ml/model/encoders/scratchCnn';
import { Rng } from '../../src/main/ml/model/rng';

export interface RandomModelOptions {
  inputSize?: number;
  channels?: number;
  units?: number;
  embeddingDim?: number;
  words?: number;
  maxCaptionLength?: number;
  seed?: number;
}

export function randomInferenceModel(options: RandomModelOptions = {}): InferenceModel {
  const inputSize = options.inputSize ?? 32;
  const channels = options.channels ?? 4;
  const words = Array.from({ length: options.words ?? 20 }, (_, i) => `w${i}`);
  const vocabulary = Vocabulary.build([words], { minCount: 1 });
  const rng = new Rng(options.seed ?? 3);
  const encoder = new ScratchCnn({ inputSize, channels }, rng);
  const decoder = new CaptionDecoder(
    {
      variant: 'merge',
      cell: 'lstm',
      layers: 1,
      vocabSize: vocabulary.tokens.length,
      embeddingDim: options.embeddingDim ?? 16,
      units: options.units ?? 16,
      dropout: 0,
      attentionDim: 8,
      doublyStochasticWeight: 1,
      featureDim: encoder.spec.pooledDim,
    },
    rng,
  );
  return {
    decoder,
    encoder,
    vocabulary,
    preprocessing: preprocessingOf(encoder),
    encoderRecord: { id: 'scratch-cnn', inputSize, normalization: 'zero-to-one', channels, source: null, featureLayer: null, weightsIncluded: true },
    runConfig: null,
    maxCaptionLength: options.maxCaptionLength ?? 8,
    backbone: null,
    dispose() {
      decoder.dispose();
      encoder.params.dispose();
    },
  };
}
