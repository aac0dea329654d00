/** `captioner serve`: the workbench in a browser, for headless and remote GPU machines. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { rendererDir } from '../../core/paths';
import { startServer } from '../../serve/server';
import { createWorkbench } from '../../workbench';
import { commonOptions, intOption, parse } from '../args';
import { CliError } from '../context';
import type { Command } from './types';

const usage = `Usage: captioner serve [--host 127.0.0.1] [--port 5170] [--data-dir DIR] [--token TOKEN] [--origin URL]... [--reason TEXT] [--json]

Serves the workbench UI and its API on http://HOST:PORT. Open the printed URL
(it carries a random access token). Binding to anything but 127.0.0.1 exposes
the workbench to your network, protected only by the token and unencrypted:
use an SSH tunnel where you can, or a TLS reverse proxy (--origin names the
proxy's https:// address so browsers may connect through it; see
docs/reliability.md).`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the workbench UI in a browser (headless machines)',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        ...commonOptions,
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string' },
        token: { type: 'string' },
        origin: { type: 'string', multiple: true },
        reason: { type: 'string' },
      },
      usage,
    );
    const staticDir = rendererDir();
    if (!existsSync(join(staticDir, 'index.html'))) {
      throw new CliError(`The UI is not built (${staticDir} is missing). Run: npm run build`);
    }
    const workbench = createWorkbench({ dataDir: values['data-dir'] ?? null });
    const server = await startServer({
      workbench,
      staticDir,
      host: values.host,
      port: intOption(values.port, 'port', 5170),
      token: values.token,
      origins: (values.origin ?? []).map(originOf),
    });
    await workbench.services.engine.start().catch((error: unknown) => {
      workbench.services.logger.error(`Engine failed to start: ${(error as Error).message}`);
    });
    if (values.reason) process.stdout.write(`${values.reason}\n`);
    process.stdout.write(`Workbench serving at ${server.url}\n`);
    if (values.json) process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, token: server.token, warnings: server.warnings })}\n`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await workbench.close();
  },
};

/** `https://gpu.example.com/anything` → `https://gpu.example.com`, as browsers send it in Origin. */
function originOf(value: string): string {
  try {
    const origin = new URL(value).origin;
    if (origin !== 'null') return origin;
  } catch {
    // Reported below.
  }
  throw new CliError(`--origin ${value}: expected an address such as https://gpu.example.com.`);
}
