/** `captioner models list|import`: model packages known to the workbench. */
import { resolve } from 'node:path';
import { commonOptions, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import { formatPackage } from './export';
import type { Command } from './types';

const usage = `Usage: captioner models <list|import> [options] [--data-dir DIR]

  captioner models list [--json]
      Imported model packages (under <data dir>/models/).
  captioner models import PKG [--name NAME] [--force] [--json]
      Checks a package by loading it, then copies it into the data directory,
      where \`captioner caption --model NAME\` and the UI find it.`;

export const modelsCommand: Command = {
  name: 'models',
  summary: 'List and import model packages',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, { ...commonOptions, name: { type: 'string' }, force: { type: 'boolean', default: false } }, usage);
    const [action, ...rest] = positionals;
    const session = { dataDir: values['data-dir'], quiet: true };
    if (action === 'list') {
      const models = await withWorkbench(session, (cli) => cli.call('models.list', {}));
      if (values.json) for (const model of models) printJson(model);
      else process.stdout.write(models.length ? models.map(formatPackage).join('\n') : 'No imported models.\n');
      return;
    }
    if (action === 'import') {
      if (rest.length !== 1) throw new CliError(`models import needs one package folder.\n\n${usage}`, 2);
      const info = await withWorkbench(session, (cli) =>
        cli.call('models.import', { path: resolve(rest[0]!), ...(values.name ? { name: values.name } : {}), overwrite: values.force }),
      );
      if (values.json) printJson(info);
      else process.stdout.write(formatPackage(info));
      return;
    }
    throw new CliError(`Unknown action "${action ?? ''}".\n\n${usage}`, 2);
  },
};
