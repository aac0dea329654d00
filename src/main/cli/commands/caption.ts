/** `captioner caption`: captions for image files from a model package. */
import type { ModelCaptions } from '../../../shared/inferenceTypes';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import { decodingFlags, decodingFromFlags, decodingUsage } from '../decodingOptions';
import type { Command } from './types';

const usage = `Usage: captioner caption --model PKG IMAGE... [decoding] [--json]

Prints one caption per image ("IMAGE<TAB>caption"); with --json, one JSON
line per image ({"image", "caption", "logProb", "error"}). An image that
cannot be read is reported and the others are still captioned (exit code 1).

  --model PKG         a package folder (from \`captioner export\`) or the name of an imported model
  --batch-size N      images per forward pass (default 16)

${decodingUsage.replace("(default: beam search, width 3)", "(default: the package's own settings)")}`;

export const captionCommand: Command = {
  name: 'caption',
  summary: 'Caption images with a model package',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...commonOptions, ...decodingFlags, model: { type: 'string' }, 'batch-size': { type: 'string' } }, usage);
    if (!values.model) throw new CliError(`--model is required.\n\n${usage}`, 2);
    if (positionals.length === 0) throw new CliError(`Give at least one image.\n\n${usage}`, 2);
    const answer: ModelCaptions = await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: true }, (cli) =>
      cli.call('models.caption', {
        model: values.model!,
        images: positionals,
        decoding: decodingFromFlags(values),
        batchSize: intOption(values['batch-size'], 'batch-size', 16),
      }),
    );
    let failed = 0;
    for (const result of answer.captions) {
      if (result.error) failed += 1;
      if (values.json) printJson(result);
      else if (result.error) process.stderr.write(`${result.image}\terror: ${result.error}\n`);
      else process.stdout.write(`${result.image}\t${result.caption}\n`);
    }
    if (failed > 0) throw new CliError(`${failed} of ${answer.captions.length} images could not be captioned.`);
  },
};
