/** `captioner synth`: generate a Shapes benchmark dataset. */
import { resolve } from 'node:path';
import type { SynthResult } from '../../../shared/datasetsTypes';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import { followTask } from '../tasks';
import type { Command } from './types';

const usage = `Usage: captioner synth --out DIR [--images N] [--seed S] [--size PX] [--image-format png|jpeg]
                       [--max-objects 1-3] [--no-textures] [--register] [--json] [--data-dir DIR]

Renders the Shapes benchmark: N scenes of one to three shapes (circle, square,
triangle, star, cross, diamond) in six colours and two sizes, on plain, striped
or dotted backgrounds, with five captions each. Writes DIR/Images/,
DIR/captions.txt (Flickr8k style), DIR/dataset_shapes.json (Karpathy style,
with splits) and DIR/scenes.json (ground truth). The same --seed gives the same
dataset, byte for byte. --register also imports it into the workbench.
Defaults: --images 2000 --seed 1 --size 128 --image-format png --max-objects 3.`;

export const synthCommand: Command = {
  name: 'synth',
  summary: 'Generate the Shapes benchmark dataset',
  usage,
  async run(argv) {
    const { values, positionals } = parse(
      argv,
      {
        ...commonOptions,
        out: { type: 'string' },
        images: { type: 'string' },
        seed: { type: 'string' },
        size: { type: 'string' },
        'image-format': { type: 'string', default: 'png' },
        'max-objects': { type: 'string' },
        'no-textures': { type: 'boolean', default: false },
        register: { type: 'boolean', default: false },
      },
      usage,
    );
    if (positionals.length) throw new CliError(`Unexpected argument "${positionals[0]}".\n\n${usage}`, 2);
    if (!values.out) throw new CliError(`--out DIR is required.\n\n${usage}`, 2);
    const format = values['image-format'];
    if (format !== 'png' && format !== 'jpeg') throw new CliError(`--image-format must be png or jpeg (got "${format}").`, 2);
    const request = {
      out: resolve(values.out),
      images: intOption(values.images, 'images', 2000),
      seed: intOption(values.seed, 'seed', 1),
      imageSize: intOption(values.size, 'size', 128),
      format,
      maxObjects: intOption(values['max-objects'], 'max-objects', 3),
      textures: !values['no-textures'],
      register: values.register,
    } as const;
    const result = await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: values.json }, (cli) =>
      followTask<SynthResult>(cli, () => cli.call('datasets.synth', request), { showProgress: !values.json }),
    );
    if (values.json) printJson(result);
    else {
      process.stdout.write(
        `Wrote ${result.images} images and ${result.captions} captions to ${result.out} in ${result.seconds.toFixed(1)} s ` +
          `(train ${result.splits.train}, val ${result.splits.val}, test ${result.splits.test}).\n` +
          (result.dataset ? `Registered as dataset ${result.dataset.id}.\n` : `Import it with: captioner dataset import ${result.out}\n`),
      );
    }
  },
};
