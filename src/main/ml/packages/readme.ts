/** The README.md written into every model package: what it is, how to run it, what is in it. */
import type { PackageConfig } from '../../lib/packages/packageConfig';

function metricLines(evaluation: { split: string; images: number; aggregate: Record<string, number> } | null): string[] {
  if (!evaluation) return ['No stored evaluation of this checkpoint (run `captioner eval` before exporting to include one).'];
  const names: Record<string, string> = { bleu1: 'BLEU-1', bleu2: 'BLEU-2', bleu3: 'BLEU-3', bleu4: 'BLEU-4', rougeL: 'ROUGE-L', ciderD: 'CIDEr-D' };
  return [
    `Evaluated on ${evaluation.images} ${evaluation.split} images (coco-caption definitions; details in metrics.json):`,
    '',
    '| metric | value |',
    '| --- | --- |',
    ...Object.entries(names)
      .filter(([key]) => evaluation.aggregate[key] !== undefined)
      .map(([key, name]) => `| ${name} | ${evaluation.aggregate[key]!.toFixed(4)} |`),
  ];
}

export function packageReadme(config: PackageConfig, evaluation: { split: string; images: number; aggregate: Record<string, number> } | null): string {
  const d = config.decoder;
  const e = config.encoder;
  const encoderLine =
    e.kind === 'scratch-cnn'
      ? `a small CNN trained with the decoder (4 blocks of 3x3 convolutions${e.stemStride > 1 ? `, the first 5x5 at stride ${e.stemStride}` : ''}, ${e.channels} to ${e.channels * 8} channels, ${e.inputSize}x${e.inputSize} input${e.gridCells ? (e.separateCells ? `, the image cut into ${e.gridCells}x${e.gridCells} tiles, each convolved alone and max-pooled to its one cell` : `, its grid max-pooled to ${e.gridCells}x${e.gridCells} cells`) : ''})`
      : `${e.id} (TensorFlow.js ${e.kind} model${e.featureLayer ? `, features from "${e.featureLayer}"` : ''}, ${e.inputSize}x${e.inputSize} input)`;
  const decoding = config.decoding;
  return `# ${config.name}

An image-captioning model exported by ${config.generatedBy} on ${config.createdAt}${
    config.source.runName ? ` from run "${config.source.runName}" (id ${config.source.runId})` : ''
  }${config.source.checkpoint ? `, checkpoint after epoch ${config.source.checkpoint.epoch} (step ${config.source.checkpoint.step})` : ''}.

- Encoder: ${encoderLine}.
- Decoder: ${d.variant} ${d.cell.toUpperCase()}, ${d.layers} layer(s), embedding ${d.embeddingDim}, ${d.units} units, vocabulary of ${d.vocabSize} words.
- Default decoding: ${decoding.strategy === 'beam' ? `beam search, width ${decoding.beamWidth}, length penalty ${decoding.lengthPenalty}` : decoding.strategy}, ${decoding.minLength} to ${decoding.maxLength} words.

## Caption an image

\`\`\`sh
npm install @tensorflow/tfjs-node sharp     # or @tensorflow/tfjs (pure JavaScript, slower)
node caption.mjs photo.jpg other.png        # --beam N, --greedy, --max-length N, --json
\`\`\`

caption.mjs needs nothing else: it reads the files below and runs the
encoder and the decoder with TensorFlow.js ops (the decoder is written out in
the script, from these weights and config.json). If @tensorflow/tfjs-node
cannot load, it says so and uses @tensorflow/tfjs. It can also be imported:
\`import { captionImages } from './caption.mjs'\`.

In the workbench: \`captioner caption --model <this folder> IMAGE...\`, or
import it from the API (\`models.import\`).

## Quality

${metricLines(evaluation).join('\n')}

METEOR and SPICE are not reported: they need external Java tools and data.

## Files

| file | what it holds |
| --- | --- |
| config.json | encoder, preprocessing (${config.preprocessing.description}), decoder shape, default decoding, tokenization |
| vocab.json | the vocabulary: word ids (0..3 are <pad> <start> <end> <unk>) |
| ${config.decoder.path} + shards | decoder weights, TensorFlow.js weights format (float32) |
| ${config.encoder.path} + shards | ${e.kind === 'scratch-cnn' ? 'scratch CNN weights, TensorFlow.js weights format (float32)' : `the ${e.kind} model in TensorFlow.js format`} |
| metrics.json | validation metrics of the checkpoint and stored evaluations |
| caption.mjs | the example inference script |
`;
}
