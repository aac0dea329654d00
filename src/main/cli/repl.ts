/**
 * The interactive captioning loop behind `captioner caption --interactive`:
 * reads one image path or glob per line, captions the files with the loaded
 * model, and prints `IMAGE<TAB>caption` per image (JSON lines with --json).
 * Lines starting with ":" change the decoding or show state. Input history
 * is kept across sessions in a file (arrow keys recall it in a terminal;
 * `:history` lists it anywhere). Captions go to stdout; everything else
 * (prompts, notices, errors) to stderr, so the output can be piped.
 */
import { consensusLabel } from '../../shared/consensusLabel';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { decodingSettings } from '../../shared/contract/inference';
import type { DecodingSettings, ModelCaptions } from '../../shared/inferenceTypes';
import { describeDecoding } from './decodingOptions';

/** Lines kept in the history file and offered to the arrow keys. */
export const HISTORY_LIMIT = 500;

export interface ReplOptions {
  /** Captions files with the given decoding (the model is bound by the caller). */
  caption(images: string[], decoding: Partial<DecodingSettings>): Promise<ModelCaptions>;
  /** Decoding the session starts with (from the command line's flags). */
  decoding: Partial<DecodingSettings>;
  input: Readable;
  output: Writable;
  errors: Writable;
  /** A terminal gets a prompt and arrow-key history. */
  terminal: boolean;
  json: boolean;
  /** Where history lives between sessions; null keeps it in memory only. */
  historyFile: string | null;
  /** Relative paths and globs are resolved from here. */
  cwd: string;
}

export interface ReplSummary {
  captioned: number;
  failed: number;
}

const HELP = `Type an image path or a glob (*.jpg, photos/**/*.png) per line; each matching image is captioned.
  :beam N      beam search with N beams
  :greedy      the most likely word at every step
  :sample [T]  sample words at temperature T (default 1)
  :mirror on|off  greedy and beam: choose with the mirrored image too
  :converse on|off  greedy and beam: choose with each relation told from its other object too
  :relations on|off  greedy and beam: weigh each relation caption with every other relation phrase
  :decoding    show the decoding in use
  :history     list earlier inputs
  :help        this text
  :quit        leave (or Ctrl-D)`;

// ─── globs ───────────────────────────────────────────────────────────────────

const MAGIC = /[*?[]/;

function segmentPattern(segment: string): RegExp {
  let source = '';
  for (let index = 0; index < segment.length; index++) {
    const char = segment[index]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const close = segment.indexOf(']', index + 1);
      if (close === -1) source += '\\[';
      else {
        const body = segment.slice(index + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        index = close;
      }
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

function listDir(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function walk(dir: string, segments: readonly string[]): string[] {
  const [head, ...tail] = segments;
  if (head === undefined) return [dir];
  if (head === '**') {
    const below = listDir(dir).filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'));
    return [...walk(dir, tail), ...below.flatMap((entry) => walk(join(dir, entry.name), segments))];
  }
  if (!MAGIC.test(head)) return existsSync(join(dir, head)) ? walk(join(dir, head), tail) : [];
  const pattern = segmentPattern(head);
  return listDir(dir)
    .filter((entry) => pattern.test(entry.name) && (head.startsWith('.') || !entry.name.startsWith('.')))
    .flatMap((entry) => (tail.length === 0 ? (entry.isFile() || entry.isSymbolicLink() ? [join(dir, entry.name)] : []) : entry.isDirectory() ? walk(join(dir, entry.name), tail) : []));
}

/** The files a path or glob names, sorted; a plain path is returned as it is (even if missing). */
export function expandImages(line: string, cwd: string): string[] {
  const unquoted = line.replace(/^(['"])(.*)\1$/, '$2');
  const path = resolve(cwd, unquoted.startsWith('~/') ? join(homedir(), unquoted.slice(2)) : unquoted);
  if (!MAGIC.test(path)) return [path];
  const parts = path.split(sep);
  const first = parts.findIndex((part) => MAGIC.test(part));
  const base = parts.slice(0, first).join(sep) || sep;
  return [...new Set(walk(base, parts.slice(first)))].filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile()).sort();
}

// ─── history ─────────────────────────────────────────────────────────────────

function readHistory(file: string | null): string[] {
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_LIMIT);
}

function remember(file: string | null, history: string[], line: string): void {
  if (history.at(-1) === line) return;
  history.push(line);
  if (history.length > HISTORY_LIMIT) history.shift();
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${line}\n`);
}

// ─── commands ────────────────────────────────────────────────────────────────

type Outcome = { decoding: Partial<DecodingSettings> } | { message: string } | { quit: true };

/** The on/off commands and the setting each turns. */
const TOGGLES = { mirror: 'mirrorConsensus', converse: 'converseConsensus', relations: 'relationSearch' } as const;

/** A `:command` line: a new decoding, something to print, or leaving. */
export function replCommand(line: string, current: Partial<DecodingSettings>, history: readonly string[]): Outcome {
  const [name = '', ...args] = line.slice(1).trim().split(/\s+/);
  const validated = (next: Partial<DecodingSettings>): Outcome => {
    const parsed = decodingSettings.safeParse(next);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${issue.path.join('.')}: ${issue.message}`);
    }
    return { decoding: next };
  };
  const numberArg = (label: string): number => {
    const value = Number(args[0]);
    if (args[0] === undefined || !Number.isFinite(value)) throw new Error(`:${name} needs ${label} (got "${args[0] ?? ''}").`);
    return value;
  };
  switch (name) {
    case 'beam': {
      const width = numberArg('a beam width, e.g. :beam 3');
      if (!Number.isInteger(width)) throw new Error(`:beam needs a whole number of beams (got "${args[0]}").`);
      return validated({ ...current, strategy: 'beam', beamWidth: width });
    }
    case 'greedy':
      return validated({ ...current, strategy: 'greedy' });
    case 'sample': {
      // Consensus and relation search do not apply to sampling.
      const { mirrorConsensus: _mirror, converseConsensus: _converse, relationSearch: _search, ...rest } = current;
      return validated({ ...rest, strategy: 'sample', temperature: args.length ? numberArg('a temperature, e.g. :sample 0.7') : 1 });
    }
    case 'mirror':
    case 'converse':
    case 'relations': {
      if (args[0] !== 'on' && args[0] !== 'off') throw new Error(`:${name} needs on or off (got "${args[0] ?? ''}").`);
      if (args[0] === 'on' && current.strategy === 'sample') throw new Error(`:${name} on chooses among greedy or beam captions; switch with :beam N or :greedy first.`);
      return validated({ ...current, [TOGGLES[name]]: args[0] === 'on' });
    }
    case 'decoding':
      return { message: '' };
    case 'history':
      return { message: history.map((entry, index) => `${String(index + 1).padStart(4)}  ${entry}`).join('\n') || '(no history yet)' };
    case 'help':
      return { message: HELP };
    case 'quit':
    case 'q':
    case 'exit':
      return { quit: true };
    default:
      throw new Error(`Unknown command ":${name}". Type :help for the commands.`);
  }
}

/** What was asked for, before the model's defaults fill in the rest. */
export function askedDecoding(decoding: Partial<DecodingSettings>): string {
  return `${askedStrategy(decoding)}${consensusLabel(decoding)}`;
}

function askedStrategy(decoding: Partial<DecodingSettings>): string {
  switch (decoding.strategy) {
    case 'greedy':
      return 'greedy';
    case 'beam':
      return `beam ${decoding.beamWidth ?? "(the model's width)"}`;
    case 'sample':
      return `sampling at temperature ${decoding.temperature ?? 1}`;
    default:
      return "the model's own settings";
  }
}

// ─── the loop ────────────────────────────────────────────────────────────────

export async function runCaptionRepl(options: ReplOptions): Promise<ReplSummary> {
  const history = readHistory(options.historyFile);
  const rl = createInterface({
    input: options.input,
    output: options.terminal ? options.errors : undefined,
    terminal: options.terminal,
    // readline wants the newest entry first.
    history: [...history].reverse(),
    historySize: HISTORY_LIMIT,
    prompt: 'caption> ',
  });
  let decoding = options.decoding;
  const summary: ReplSummary = { captioned: 0, failed: 0 };
  const note = (text: string) => options.errors.write(`${text}\n`);
  const prompt = () => options.terminal && rl.prompt();

  // The full decoding is only known after a call (the package fills in its defaults).
  let used: { asked: Partial<DecodingSettings>; settings: DecodingSettings } | null = null;
  const describe = () => (used && used.asked === decoding ? describeDecoding(used.settings) : askedDecoding(decoding));

  if (options.terminal) note(`Interactive captioning. ${HELP.split('\n')[0]} :help lists the commands.`);
  prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (!line) {
      prompt();
      continue;
    }
    remember(options.historyFile, history, line);
    try {
      if (line.startsWith(':')) {
        const outcome = replCommand(line, decoding, history);
        if ('quit' in outcome) break;
        if ('decoding' in outcome) {
          decoding = outcome.decoding;
          note(`decoding: ${describe()}`);
        } else note(outcome.message || `decoding: ${describe()}`);
      } else {
        const images = expandImages(line, options.cwd);
        if (images.length === 0) throw new Error(`${line}: no files match.`);
        const answer = await options.caption(images, decoding);
        used = { asked: decoding, settings: answer.decoding };
        for (const result of answer.captions) {
          if (result.error) summary.failed += 1;
          else summary.captioned += 1;
          if (options.json) options.output.write(`${JSON.stringify({ ...result, decoding: answer.decoding.strategy })}\n`);
          else if (result.error) note(`${result.image}\terror: ${result.error}`);
          else options.output.write(`${result.image}\t${result.caption}\n`);
        }
      }
    } catch (error) {
      note(`error: ${(error as Error).message}`);
    }
    prompt();
  }
  rl.close();
  return summary;
}
