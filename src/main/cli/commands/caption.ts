/** `captioner caption`: captions for image files from a model package, once or interactively. */
import { join } from 'node:path';
import type { ModelCaptions } from '../../../shared/inferenceTypes';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import { decodingFlags, decodingFromFlags, decodingUsage } from '../decodingOptions';
import { resolveModel } from '../../inference/models';
import { runCaptionRepl } from '../repl';
import type { Command } from './types';

const usage = `Usage: captioner caption --model PKG IMAGE... [decoding] [--json]
       captioner caption --model PKG --interactive [decoding] [--json]

Prints one caption per image ("IMAGE<TAB>caption"); with --json, one JSON
line per image ({"image", "caption", "logProb", "error"}). An image that
cannot be read is reported and the others are still captioned (exit code 1).

  --model PKG         a package folder (from \`captioner export\`) or the name of an imported model
  --batch-size N      images per forward pass (default 16)
  --interactive, -i   keep the model loaded and read image paths or globs, one per line;
                      :beam N, :greedy, :sample T switch the decoding, :history lists earlier
                      inputs (kept in <data dir>/caption_history), :help, :quit or Ctrl-D

${decodingUsage.replace("(default: beam search, width 3)", "(default: the package's own settings)")}`;

export const captionCommand: Command = {
  name: 'caption',
  summary: 'Caption images with a model package (or interactively: --interactive)',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      { ...commonOptions, ...decodingFlags, model: { type: 'string' }, 'batch-size': { type: 'string' }, interactive: { type: 'boolean', short: 'i', default: false } },
      usage,
    );
    if (!values.model) throw new CliError(`--model is required.\n\n${usage}`, 2);
    const decoding = decodingFromFlags(values);
    const batchSize = intOption(values['batch-size'], 'batch-size', 16);
    if (values.interactive) {
      if (positionals.length > 0) throw new CliError(`--interactive reads images from its input; give none on the command line.\n\n${usage}`, 2);
      await withWorkbench({ dataDir: values['data-dir'], quiet: true }, async (cli) => {
        // A wrong --model fails before the first prompt, not on the first image.
        resolveModel(cli.workbench.services, values.model!);
        await runCaptionRepl({
          caption: (images, chosen) => cli.call('models.caption', { model: values.model!, images, decoding: chosen, batchSize }),
          decoding,
          input: process.stdin,
          output: process.stdout,
          errors: process.stderr,
          terminal: Boolean(process.stdin.isTTY && process.stderr.isTTY),
          json: values.json,
          historyFile: join(cli.workbench.services.dataDir, 'caption_history'),
          cwd: process.cwd(),
        });
      });
      return;
    }
    if (positionals.length === 0) throw new CliError(`Give at least one image (or --interactive).\n\n${usage}`, 2);
    const answer: ModelCaptions = await withWorkbench({ dataDir: values['data-dir'], quiet: true }, (cli) =>
      cli.call('models.caption', { model: values.model!, images: positionals, decoding, batchSize }),
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
