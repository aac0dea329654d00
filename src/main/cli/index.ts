/** `captioner`: every workbench job, headless. */
import { ApiError } from '../../shared/errors';
import { commands } from './commands';
import { CliError, printJson, setCommandName } from './context';

function help(): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  return [
    'Usage: captioner <command> [options]',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`),
    '',
    'Run `captioner <command> --help` for a command\'s options.',
    'Common options: --data-dir DIR (or CAPTIONER_DATA_DIR), --store sqlite|postgres://… (or CAPTIONER_STORE), --json.',
    '',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help());
    return name ? 0 : 2;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  setCommandName(command.name);
  try {
    await command.run(rest);
    return 0;
  } catch (error) {
    // Whatever went wrong: the reason on stderr, a non-zero code, and with --json one line saying the same on stdout.
    const json = rest.includes('--json');
    if (error instanceof CliError) {
      process.stderr.write(`captioner ${name}: ${error.message}\n`);
      if (json && !error.reportedInJson) printJson({ type: 'error', command: name, error: error.message, exitCode: error.exitCode });
      return error.exitCode;
    }
    if (error instanceof ApiError) {
      const details = error.issues.map((issue) => `\n  ${issue.path}: ${issue.message}`).join('');
      process.stderr.write(`captioner ${name}: ${error.message}${details}\n`);
      if (json) printJson({ type: 'error', command: name, error: error.message, code: error.code, issues: error.issues, exitCode: 1 });
      return 1;
    }
    process.stderr.write(`captioner ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    if (json) printJson({ type: 'error', command: name, error: error instanceof Error ? error.message : String(error), exitCode: 1 });
    return 1;
  }
}

if (require.main === module || process.env.CAPTIONER_CLI === '1') {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
