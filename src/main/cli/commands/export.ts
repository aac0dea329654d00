/** `captioner export`: a run's checkpoint as a self-contained model package. */
import { resolve } from 'node:path';
import type { CheckpointChoice, ModelPackageInfo } from '../../../shared/inferenceTypes';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import { decodingFlags, decodingFromFlags, decodingUsage, describeDecoding } from '../decodingOptions';
import type { Command } from './types';

const usage = `Usage: captioner export RUN --out DIR [--checkpoint best|last|EPOCH] [--name NAME] [--force] [decoding] [--json]

Writes a self-contained model package to DIR: the decoder's and the
encoder's weights in the TensorFlow.js format, vocab.json, config.json
(encoder, preprocessing, decoder and default decoding settings), metrics.json
(validation metrics and stored evaluations of the checkpoint), a README and
caption.mjs, an example script that captions images with only
@tensorflow/tfjs-node and sharp.

  RUN                 the run id (see \`captioner runs list\`)
  --out DIR           the package folder (created; must be empty unless --force)
  --checkpoint C      best (default), last, or the epoch number of a checkpoint
  --name NAME         the model's name (default: <run name>-epoch<N>)
  --force             replace DIR if it exists

${decodingUsage.replace('Decoding (default', 'Default decoding written into the package (default')}`;

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export a checkpoint as a self-contained model package',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...commonOptions, ...decodingFlags, out: { type: 'string' }, checkpoint: { type: 'string', default: 'best' }, name: { type: 'string' }, force: { type: 'boolean', default: false } },
      usage,
    );
    if (positionals.length !== 1) throw new CliError(`Give exactly one run id.\n\n${usage}`, 2);
    if (!values.out) throw new CliError(`--out is required.\n\n${usage}`, 2);
    const checkpoint: CheckpointChoice =
      values.checkpoint === 'best' || values.checkpoint === 'last' ? values.checkpoint : intOption(values.checkpoint, 'checkpoint', 0);
    const info = await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: values.json }, (cli) =>
      cli.call('models.export', {
        runId: intOption(positionals[0], 'run', 0),
        checkpoint,
        out: resolve(values.out!),
        ...(values.name ? { name: values.name } : {}),
        decoding: decodingFromFlags(values),
        overwrite: values.force,
      }),
    );
    if (values.json) printJson(info);
    else process.stdout.write(formatPackage(info));
  },
};

export function formatPackage(info: ModelPackageInfo): string {
  const mib = (info.sizeBytes / 1024 ** 2).toFixed(1);
  const lines = [
    `Model package "${info.name}" at ${info.path} (${mib} MiB, ${info.files.length} files)`,
    `  encoder   ${info.encoder.id} (${info.encoder.kind}, ${info.encoder.inputSize}px)`,
    `  decoder   ${info.decoder.variant} ${info.decoder.cell}, ${info.decoder.layers} layer(s), ${info.decoder.units} units, ${info.decoder.vocabSize} words`,
    `  decoding  ${describeDecoding(info.decoding)}`,
  ];
  if (info.source.runName) lines.push(`  from      run ${info.source.runId} (${info.source.runName})${info.source.checkpoint ? `, epoch ${info.source.checkpoint.epoch}` : ''}`);
  if (info.evaluation) {
    const a = info.evaluation.aggregate;
    lines.push(`  quality   ${info.evaluation.split}: BLEU-4 ${a.bleu4?.toFixed(4) ?? '—'}, CIDEr-D ${a.ciderD?.toFixed(4) ?? '—'} (${info.evaluation.images} images)`);
  }
  lines.push(`Try it: node ${resolve(info.path, 'caption.mjs')} IMAGE`, '');
  return lines.join('\n');
}
