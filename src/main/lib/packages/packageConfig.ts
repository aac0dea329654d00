/**
 * config.json of a model package: everything needed to turn an image file
 * into a caption with the package's weights, written for people and for
 * caption.mjs alike. Validated on load, so a damaged package fails with the
 * file and field named.
 */
import { z } from 'zod';
import { decoderVariants } from '../../../shared/runConfig';

export const PACKAGE_FORMAT = 'captioner-model-package';
export const PACKAGE_VERSION = 1;
export const DECODER_WEIGHTS_FORMAT = 'captioner-decoder';
export const SCRATCH_WEIGHTS_FORMAT = 'captioner-scratch-cnn';

const positive = z.number().int().min(1);
const normalization = z.enum(['imagenet', 'minus-one-to-one', 'zero-to-one']);

const scratchEncoder = z
  .object({
    kind: z.literal('scratch-cnn'),
    id: z.literal('scratch-cnn'),
    path: z.string().min(1),
    inputSize: positive,
    /** Channels of the first of four convolutions (each block doubles them; 2x2 max-pool after the first three). */
    channels: positive,
    /** The first convolution's stride: 1, a 3x3 kernel; 2, a 5x5 kernel at stride 2 (so the grid is inputSize / 16). All others are 3x3 at stride 1. Absent: 1. */
    stemStride: z.union([z.literal(1), z.literal(2)]).default(1),
    blocks: z.literal(4),
    /** How the pooled vector is formed from the grid cells. */
    pooling: z.enum(['mean', 'max']),
    /** Two channels with each grid cell's x and y (−1..1) appended after the last block (before pooling); absent: none. */
    coordinates: z.boolean().default(false),
    /** 32 channels appended before the coordinates: a ReLU 1x1 convolution to 8 channels (directions/kernel, directions/bias), its column means added up over the columns left of each cell and right of it, its row means over the rows above and below; absent: none. */
    directions: z.boolean().default(false),
    /** The last block's grid max-pooled to this many cells a side before the directions and coordinates, in bins from row floor(i·n/N) to ceil((i+1)·n/N) (neighbours sharing at most a row where N does not divide n); absent: the last block's own grid. */
    gridCells: positive.optional(),
    /** With gridCells: the image cut into gridCells × gridCells tiles, row by row; each tile goes through the four blocks alone and its own grid is max-pooled to its one cell, so a cell sees only its own pixels. Absent: the whole image convolved at once. */
    separateCells: z.boolean().default(false),
    pooledDim: positive,
    gridShape: z.tuple([positive, positive, positive]),
  })
  .strict();

const backboneEncoder = z
  .object({
    kind: z.enum(['layers', 'graph']),
    /** Catalog id, or where the backbone came from. */
    id: z.string().min(1),
    path: z.string().min(1),
    inputSize: positive,
    /** Layer (layers model) or node (graph model) giving the features; null: the model's output. */
    featureLayer: z.string().nullable(),
    /** What the model expects of its [0, 1] pixels, applied inside the encoder (Keras applications). */
    modelPreprocessing: z.enum(['imagenet', 'minus-one-to-one', 'zero-to-one', 'caffe', 'raw-255']),
    /** The run's encoder.normalization choice, so the workbench loads the backbone exactly as it trained. */
    normalizationSetting: z.enum(['auto', 'imagenet', 'minus-one-to-one', 'zero-to-one']),
    pooledDim: positive,
    gridShape: z.tuple([positive, positive, positive]),
  })
  .strict();

export const packageConfigSchema = z
  .object({
    format: z.literal(PACKAGE_FORMAT),
    version: z.number().int().min(1).max(PACKAGE_VERSION),
    name: z.string().min(1).max(200),
    createdAt: z.string(),
    generatedBy: z.string(),
    source: z
      .object({
        runId: z.number().int().nullable(),
        runName: z.string().nullable(),
        checkpoint: z.object({ epoch: z.number().int().min(0), step: z.number().int().min(0) }).strict().nullable(),
      })
      .strict(),
    encoder: z.discriminatedUnion('kind', [scratchEncoder, backboneEncoder]),
    preprocessing: z
      .object({
        inputSize: positive,
        resize: z.enum(['squash', 'center-crop']),
        normalization,
        maxInputPixels: positive,
        description: z.string(),
      })
      .strict(),
    decoder: z
      .object({
        path: z.string().min(1),
        variant: z.enum(decoderVariants),
        cell: z.enum(['lstm', 'gru']),
        layers: z.number().int().min(1).max(2),
        vocabSize: positive,
        embeddingDim: positive,
        units: positive,
        attentionDim: positive,
        featureDim: positive,
        /** The word just read joins the attention query (its weights are attention/wordKernel); absent in older packages. */
        wordQuery: z.boolean().optional(),
        /** A second glimpse looked for by the last two words joins the deep output (wordGlimpse/*); absent in older packages. */
        wordGlimpse: z.boolean().optional(),
        /** How many of the last words lead the word glimpse (its query kernel is [glimpseWords·E, A]); 2 when absent. */
        glimpseWords: z.number().int().min(2).max(5).optional(),
        /** How much attention each region has had joins its score (attention/coverageKernel); absent in older packages. */
        coverage: z.boolean().optional(),
      })
      .strict(),
    vocabulary: z.object({ path: z.string().min(1), size: positive }).strict(),
    decoding: z
      .object({
        strategy: z.enum(['greedy', 'beam', 'sample']),
        beamWidth: positive,
        lengthPenalty: z.number().min(0),
        minLength: z.number().int().min(0),
        maxLength: positive,
        noRepeatNgramSize: z.number().int().min(0),
        temperature: z.number().positive(),
        topK: z.number().int().min(0),
        topP: z.number().positive().max(1),
        seed: z.number().int().min(0),
      })
      .strict(),
    tokenization: z.object({ name: z.string(), description: z.string() }).strict(),
    metrics: z.object({ path: z.string().min(1) }).strict(),
  })
  .strict();

export type PackageConfig = z.output<typeof packageConfigSchema>;
export type PackageEncoderConfig = PackageConfig['encoder'];
