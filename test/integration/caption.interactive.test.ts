/**
 * `captioner caption --interactive` through a real child process: image
 * paths and globs on stdin, captions on stdout, `:beam N`, `:greedy` and
 * `:sample T` switching the decoding, errors that leave the session
 * running, and history kept across sessions. The model is a tiny trained
 * run exported as a package; everything runs on the pure-JS backend so the
 * REPL's captions can be checked word for word against `captioner caption`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandImages, replCommand } from '../../src/main/cli/repl';
import type { CaptionResult } from '../../src/shared/inferenceTypes';
import { tempDir } from '../helpers/evalFixtures';
import { jsonLines, runCli } from '../helpers/runCli';
import { trainTinyRun, type TrainedRun } from '../helpers/trainedRun';

let run: TrainedRun;
let packageDir: string;
let imageDir: string;
let images: string[];
const previousBackend = process.env.CAPTIONER_BACKEND;

beforeAll(async () => {
  process.env.CAPTIONER_BACKEND = 'cpu';
  run = await trainTinyRun({ images: 12, seed: 9 });
  imageDir = join(run.datasetDir, 'Images');
  images = readdirSync(imageDir)
    .sort()
    .map((name) => join(imageDir, name));
  packageDir = join(tempDir('captioner-repl-'), 'tiny');
  const exported = await runCli(['export', String(run.runId), '--out', packageDir, '--beam', '2', '--json', '--data-dir', run.dataDir]);
  expect(exported.code, exported.stderr).toBe(0);
}, 300_000);

afterAll(() => {
  if (previousBackend === undefined) delete process.env.CAPTIONER_BACKEND;
  else process.env.CAPTIONER_BACKEND = previousBackend;
});

/**
 * Runs the REPL in a child process from the checkout (where the engine it
 * forks finds tsx), feeding `lines`; `end` closes stdin afterwards, else the
 * session must end by itself.
 */
function repl(args: string[], lines: string[], options: { end: boolean }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(process.cwd(), 'src', 'main', 'cli', 'index.ts'), 'caption', '--model', packageDir, '--interactive', '--data-dir', run.dataDir, ...args], {
    env: { ...process.env, CAPTIONER_CLI: '1', CAPTIONER_BACKEND: 'cpu' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.write(lines.map((line) => `${line}\n`).join(''));
  if (options.end) child.stdin.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

const captionsOf = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split('\t') as [string, string]);

describe('captioner caption --interactive', () => {
  it('captions paths and globs line by line, switching decoding with :greedy, :beam N and :sample T', async () => {
    const session = await repl(
      [],
      [
        images[0]!,
        ':greedy',
        `${imageDir}/shapes_00000[0-2].png`,
        ':beam 0',
        `${imageDir}/nothing-here-*.png`,
        ':beam 3',
        `'${images[1]}'`,
        ':sample 0.7',
        images[0]!,
        join(imageDir, 'missing.png'),
        ':history',
      ],
      { end: true },
    );
    expect(session.code, session.stderr).toBe(0);
    const printed = captionsOf(session.stdout);
    expect(printed.map(([image]) => image)).toEqual([images[0], images[0], images[1], images[2], images[1], images[0]]);
    for (const [, caption] of printed) expect(caption).toMatch(/\S/);

    // Each decoding gives the captions `captioner caption` gives with the same flags.
    const once = async (flags: string[], files: string[]) => {
      const answer = await runCli(['caption', '--model', packageDir, ...files, ...flags, '--json', '--data-dir', run.dataDir]);
      expect(answer.code, answer.stderr).toBe(0);
      return jsonLines<CaptionResult>(answer.stdout).map((result) => result.caption);
    };
    expect([printed[0]![1]]).toEqual(await once([], [images[0]!]));
    expect(printed.slice(1, 4).map(([, caption]) => caption)).toEqual(await once(['--greedy'], images.slice(0, 3)));
    expect([printed[4]![1]]).toEqual(await once(['--beam', '3'], [images[1]!]));

    // Decoding changes are announced, mistakes are named and the session carries on.
    expect(session.stderr).toContain('decoding: greedy');
    expect(session.stderr).toContain('decoding: beam 3');
    expect(session.stderr).toContain('decoding: sampling at temperature 0.7');
    expect(session.stderr).toMatch(/error: beamWidth: .*>=1/);
    expect(session.stderr).toContain(`error: ${imageDir}/nothing-here-*.png: no files match.`);
    expect(session.stderr).toContain(`${join(imageDir, 'missing.png')}\terror: `);
    // :history lists this session's inputs.
    expect(session.stderr).toMatch(/\s+1 {2}\/.*shapes_000000\.png\n\s+2 {2}:greedy\n/);
  }, 240_000);

  it('keeps history across sessions, ends on :quit with stdin still open, and prints JSON lines with --json', async () => {
    const session = await repl(['--json'], [':history', `${imageDir}/*_000003.png`, ':quit'], { end: false });
    expect(session.code, session.stderr).toBe(0);
    // The first session's inputs come first.
    expect(session.stderr).toMatch(/:sample 0\.7/);
    const [line] = jsonLines<CaptionResult & { decoding: string }>(session.stdout);
    expect(line).toMatchObject({ image: images[3], error: null, decoding: 'beam' });
    expect(line!.caption).toMatch(/\S/);
  }, 240_000);

  it('refuses images on the command line together with --interactive, and a model that does not exist', async () => {
    const both = await runCli(['caption', '--model', packageDir, '--interactive', images[0]!, '--data-dir', run.dataDir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--interactive reads images from its input');
    const missing = await runCli(['caption', '--model', 'no-such-model', '--interactive', '--data-dir', run.dataDir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No model "no-such-model"');
  });
});

describe('the REPL’s parts', () => {
  it('expands globs (*, ?, [..], **) to sorted files and leaves plain paths alone', () => {
    const root = tempDir('repl-glob-');
    for (const file of ['a/x1.png', 'a/x2.png', 'a/y.jpg', 'a/b/x3.png', 'a/.hidden.png']) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), '');
    }
    expect(expandImages('a/*.png', root)).toEqual([join(root, 'a/x1.png'), join(root, 'a/x2.png')]);
    expect(expandImages('a/x?.png', root)).toEqual([join(root, 'a/x1.png'), join(root, 'a/x2.png')]);
    expect(expandImages('a/x[2-3].png', root)).toEqual([join(root, 'a/x2.png')]);
    expect(expandImages(`${root}/**/x*.png`, '/')).toEqual([join(root, 'a/b/x3.png'), join(root, 'a/x1.png'), join(root, 'a/x2.png')]);
    expect(expandImages("'a/y.jpg'", root)).toEqual([join(root, 'a/y.jpg')]);
    expect(expandImages('a/none.png', root)).toEqual([join(root, 'a/none.png')]);
    expect(expandImages('a/*.gif', root)).toEqual([]);
  });

  it('turns :commands into decodings, messages or leaving, and names bad arguments', () => {
    expect(replCommand(':beam 5', { strategy: 'greedy' }, [])).toEqual({ decoding: { strategy: 'beam', beamWidth: 5 } });
    expect(replCommand(':greedy', { strategy: 'beam', beamWidth: 5 }, [])).toEqual({ decoding: { strategy: 'greedy', beamWidth: 5 } });
    expect(replCommand(':sample', {}, [])).toEqual({ decoding: { strategy: 'sample', temperature: 1 } });
    expect(replCommand(':sample 0.5', {}, [])).toEqual({ decoding: { strategy: 'sample', temperature: 0.5 } });
    expect(replCommand(':history', {}, ['a.png', ':greedy'])).toEqual({ message: '   1  a.png\n   2  :greedy' });
    expect(replCommand(':q', {}, [])).toEqual({ quit: true });
    expect(() => replCommand(':beam', {}, [])).toThrow(':beam needs a beam width');
    expect(() => replCommand(':beam 2.5', {}, [])).toThrow('whole number');
    expect(() => replCommand(':beam 50', {}, [])).toThrow(/beamWidth/);
    expect(() => replCommand(':sample hot', {}, [])).toThrow(':sample needs a temperature');
    expect(() => replCommand(':sample 9', {}, [])).toThrow(/temperature/);
    expect(() => replCommand(':frobnicate', {}, [])).toThrow('Unknown command ":frobnicate"');
    expect(replCommand(':mirror on', { strategy: 'beam', beamWidth: 5 }, [])).toEqual({ decoding: { strategy: 'beam', beamWidth: 5, mirrorConsensus: true } });
    expect(replCommand(':mirror off', { strategy: 'greedy', mirrorConsensus: true }, [])).toEqual({ decoding: { strategy: 'greedy', mirrorConsensus: false } });
    expect(replCommand(':sample', { strategy: 'beam', mirrorConsensus: true }, [])).toEqual({ decoding: { strategy: 'sample', temperature: 1 } });
    expect(replCommand(':converse on', { strategy: 'beam', beamWidth: 3, mirrorConsensus: true }, [])).toEqual({ decoding: { strategy: 'beam', beamWidth: 3, mirrorConsensus: true, converseConsensus: true } });
    expect(replCommand(':sample', { strategy: 'beam', converseConsensus: true }, [])).toEqual({ decoding: { strategy: 'sample', temperature: 1 } });
    expect(() => replCommand(':converse maybe', { strategy: 'beam' }, [])).toThrow(':converse needs on or off');
    expect(replCommand(':relations on', { strategy: 'beam', beamWidth: 3 }, [])).toEqual({ decoding: { strategy: 'beam', beamWidth: 3, relationSearch: true } });
    expect(replCommand(':relations off', { strategy: 'beam', relationSearch: true }, [])).toEqual({ decoding: { strategy: 'beam', relationSearch: false } });
    expect(replCommand(':sample', { strategy: 'beam', relationSearch: true, mirrorConsensus: true }, [])).toEqual({ decoding: { strategy: 'sample', temperature: 1 } });
    expect(() => replCommand(':relations on', { strategy: 'sample' }, [])).toThrow(':relations on chooses among greedy or beam captions');
    expect(() => replCommand(':mirror', {}, [])).toThrow(':mirror needs on or off');
    expect(() => replCommand(':mirror on', { strategy: 'sample' }, [])).toThrow('switch with :beam N or :greedy first');
  });
});
