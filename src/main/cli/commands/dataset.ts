/** `captioner dataset stats|import|list|remove|score`: datasets from the command line. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DATASET_FORMATS, type DatasetFormat, type DatasetStats, type DatasetSummary, type GroundedScore } from '../../../shared/datasetsTypes';
import { commonOptions, intOption, parse } from '../args';
import { readDataset } from '../../lib/data/readers';
import { withBadImages, type BadImage } from '../../lib/data/readers/verifyImages';
import { CliError, printJson, withWorkbench, type CliContext } from '../context';
import { progressPrinter } from '../progress';
import { followTask } from '../tasks';
import type { Command } from './types';

const usage = `Usage: captioner dataset <stats|import|list|remove|score> [options] [--data-dir DIR]

  captioner dataset stats PATH [--format F] [--images DIR] [--min-count N] [--top N] [--verify] [--json]
      Format detected, images and captions per split, caption lengths,
      vocabulary size at --min-count (default 5), top words, problems found.
      --verify decodes every image (at thumbnail size, in the engine) and
      lists each one that cannot be decoded with its reason: truncated files,
      files that are not images, decompression bombs.
  captioner dataset import PATH [--format F] [--images DIR] [--name NAME] [--no-verify] [--json]
      Reads the dataset and registers it in the workbench (again: refreshes it),
      then decodes every image at thumbnail size (an import task with progress;
      Ctrl-C stops it) and lists each unreadable one in the dataset's problems.
      --no-verify registers it without that pass.
  captioner dataset list [--json]
  captioner dataset remove ID [--json]
      Forgets a registered dataset; its files stay on disk.
  captioner dataset score SHAPES_DIR CAPTIONS.json [--json]
      Grounded scoring of generated captions against a Shapes dataset's
      scenes.json. CAPTIONS.json: {"image": "caption", ...} or the COCO
      results format [{"image_id": "shapes_000001.png", "caption": "..."}].

PATH is a dataset folder or annotation file. Formats (detected when --format
is left out): ${DATASET_FORMATS.join(', ')}.`;

const options = {
  ...commonOptions,
  format: { type: 'string' },
  images: { type: 'string' },
  name: { type: 'string' },
  'min-count': { type: 'string' },
  top: { type: 'string' },
  verify: { type: 'boolean', default: false },
  'no-verify': { type: 'boolean', default: false },
} as const;

function formatOption(value: string | undefined): DatasetFormat | undefined {
  if (value === undefined) return undefined;
  if (!(DATASET_FORMATS as readonly string[]).includes(value)) throw new CliError(`--format must be one of ${DATASET_FORMATS.join(', ')} (got "${value}").`, 2);
  return value as DatasetFormat;
}

function onePath(paths: string[], action: string): string {
  if (paths.length !== 1) throw new CliError(`dataset ${action} takes one PATH.\n\n${usage}`, 2);
  return resolve(paths[0] as string);
}

export const datasetCommand: Command = {
  name: 'dataset',
  summary: 'Dataset stats, import, list, remove, and grounded Shapes scoring',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, usage);
    const [action, ...rest] = positionals;
    const session = { dataDir: values['data-dir'], quiet: values.json };
    const format = formatOption(values.format);
    const imagesDir = values.images ? resolve(values.images) : undefined;
    switch (action) {
      case 'stats': {
        const path = onePath(rest, 'stats');
        const { stats, bad } = await withWorkbench(session, async (cli) => {
          const stats = await cli.call('datasets.stats', {
            path,
            ...(format ? { format } : {}),
            ...(imagesDir ? { imagesDir } : {}),
            minCount: intOption(values['min-count'], 'min-count', 5),
            topWords: intOption(values.top, 'top', 25),
          });
          if (!values.verify) return { stats, bad: null };
          const bad = await verifyDatasetImages(cli, path, { format, imagesDir, showProgress: !values.json });
          return { stats: { ...stats, problems: withBadImages(stats.problems, bad) }, bad };
        });
        if (values.json) printJson(bad ? { ...stats, unreadableImages: bad } : stats);
        else process.stdout.write(formatStats(stats) + (bad ? formatBadImages(bad) : ''));
        return;
      }
      case 'import': {
        const path = onePath(rest, 'import');
        const summary = await withWorkbench(session, async (cli) => {
          const imported = await cli.call('datasets.import', {
            path,
            verify: !values['no-verify'],
            ...(format ? { format } : {}),
            ...(imagesDir ? { imagesDir } : {}),
            ...(values.name ? { name: values.name } : {}),
          });
          if (imported.verifyTaskId === null) return imported;
          // The import's second half: every image decoded, unreadable ones added to the problems.
          await followTask(cli, async () => ({ taskId: imported.verifyTaskId as number }), { showProgress: !values.json });
          return { ...(await cli.call('datasets.list', {})).find((d) => d.id === imported.id)!, verifyTaskId: imported.verifyTaskId };
        });
        if (values.json) printJson(summary);
        else process.stdout.write(`Imported dataset ${summary.id}: ${formatSummary(summary)}\n`);
        return;
      }
      case 'list': {
        const list = await withWorkbench(session, (cli) => cli.call('datasets.list', {}));
        if (values.json) for (const summary of list) printJson(summary);
        else process.stdout.write(list.length ? list.map((s) => `${String(s.id).padStart(4)}  ${formatSummary(s)}\n`).join('') : 'No datasets yet. Import one: captioner dataset import PATH\n');
        return;
      }
      case 'remove': {
        if (rest.length !== 1) throw new CliError(`dataset remove takes one ID.\n\n${usage}`, 2);
        const datasetId = intOption(rest[0], 'ID', 0);
        const result = await withWorkbench(session, (cli) => cli.call('datasets.remove', { datasetId }));
        if (values.json) printJson(result);
        else process.stdout.write(`Removed dataset ${datasetId} (its files are untouched).\n`);
        return;
      }
      case 'score': {
        if (rest.length !== 2) throw new CliError(`dataset score takes SHAPES_DIR and CAPTIONS.json.\n\n${usage}`, 2);
        const captions = readCaptionsFile(resolve(rest[1] as string));
        const report = await withWorkbench(session, (cli) => cli.call('datasets.groundedScore', { scenes: resolve(rest[0] as string), captions }));
        if (values.json) printJson(report);
        else process.stdout.write(formatGrounded(report));
        return;
      }
      default:
        throw new CliError(`Unknown action "${action ?? ''}".\n\n${usage}`, 2);
    }
  },
};

/** `{image: caption}` or COCO results `[{image_id, caption}]`. */
export function readCaptionsFile(file: string): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
  if (Array.isArray(value)) {
    const out: Record<string, string> = {};
    value.forEach((entry: unknown, i) => {
      const { image_id: image, caption } = (entry ?? {}) as { image_id?: unknown; caption?: unknown };
      if ((typeof image !== 'string' && typeof image !== 'number') || typeof caption !== 'string') {
        throw new CliError(`${file} at $[${i}]: expected {"image_id": NAME, "caption": TEXT}`);
      }
      out[String(image)] = caption;
    });
    return out;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, caption] of Object.entries(value)) if (typeof caption !== 'string') throw new CliError(`${file} at $.${key}: expected a caption string`);
    return value as Record<string, string>;
  }
  throw new CliError(`${file}: expected {"image": "caption"} or [{"image_id", "caption"}]`);
}

export function formatSummary(s: DatasetSummary): string {
  const splits = s.splits ? ` (train ${s.splits.train}, val ${s.splits.val}, test ${s.splits.test})` : ' (no splits)';
  const problems = s.problems ? `, ${s.problems} problems` : '';
  const verified = s.verified ? `, ${s.verified.checked} images decoded (${s.verified.unreadable} unreadable)` : '';
  return `${s.name}  ${s.format}${s.kind === 'shapes' ? ' [shapes]' : ''}  ${s.images} images${splits}, ${s.captions} captions${problems}${verified}  ${s.path}`;
}

export function formatStats(s: DatasetStats): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const maxCount = Math.max(1, ...s.captionLength.histogram.map((h) => h.count));
  const lines = [
    `Format         ${s.format}${s.shapes ? ' (Shapes: scenes.json found, grounded scoring available)' : ''}`,
    `Source         ${s.source}`,
    `Images in      ${s.imageRoot}`,
    `Images         ${s.images}`,
    `Captions       ${s.captions} (${s.captionsPerImage.min}-${s.captionsPerImage.max} per image, mean ${s.captionsPerImage.mean})`,
    `Splits         ${s.splitSource === 'dataset' ? `train ${s.splits.train.images}, val ${s.splits.val.images}, test ${s.splits.test.images}${s.splits.unassigned.images ? `, unassigned ${s.splits.unassigned.images}` : ''}` : 'none in the data (training draws a seeded split by image)'}`,
    `Vocabulary     ${s.vocabulary.size} tokens at min count ${s.vocabulary.minCount} (of ${s.vocabulary.distinctWords} distinct words; covers ${pct(s.vocabulary.coverage)} of the text)`,
    `Caption length ${s.captionLength.min}-${s.captionLength.max} words, mean ${s.captionLength.mean}, median ${s.captionLength.median}, 95% ≤ ${s.captionLength.p95}`,
    ...s.captionLength.histogram.map((h) => `  ${String(h.length).padStart(3)} ${'█'.repeat(Math.max(1, Math.round((h.count / maxCount) * 40)))} ${h.count}`),
    `Top words      ${s.topWords.map((w) => `${w.word} (${w.count})`).join(', ')}`,
  ];
  const kinds = Object.entries(s.problems.counts);
  lines.push(`Problems       ${kinds.length ? kinds.map(([kind, n]) => `${kind} ${n}`).join(', ') : 'none'}`);
  for (const problem of s.problems.examples.slice(0, 10)) {
    const where = problem.file ? ` [${problem.file}${problem.line ? `:${problem.line}` : ''}${problem.jsonPath ? ` ${problem.jsonPath}` : ''}]` : '';
    lines.push(`  ${problem.kind}: ${problem.message}${where}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Decodes every image of the dataset in the dataset process (Ctrl-C cancels); answers the ones that failed. */
async function verifyDatasetImages(
  cli: CliContext,
  path: string,
  options: { format: DatasetFormat | undefined; imagesDir: string | undefined; showProgress: boolean },
): Promise<BadImage[]> {
  const dataset = await readDataset(path, { ...(options.format ? { format: options.format } : {}), ...(options.imagesDir ? { imagesDir: options.imagesDir } : {}) });
  const bar = progressPrinter(options.showProgress);
  const controller = new AbortController();
  const cancel = () => controller.abort();
  process.once('SIGINT', cancel);
  try {
    const result = await cli.workbench.services.datasets.verifyImages(
      dataset.images.map((image) => ({ id: image.id, file: image.file })),
      { signal: controller.signal, onProgress: (progress) => bar.update({ ...progress, etaSeconds: progress.etaSeconds ?? null }) },
    );
    return result.bad;
  } finally {
    bar.done();
    process.off('SIGINT', cancel);
  }
}

export function formatBadImages(bad: readonly BadImage[]): string {
  if (bad.length === 0) return 'Verified       every image decodes\n';
  return `Unreadable     ${bad.length} image${bad.length === 1 ? '' : 's'} cannot be decoded:\n${bad.map((image) => `  ${image.file}: ${image.reason}\n`).join('')}`;
}

export function formatGrounded(r: GroundedScore): string {
  const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(1)}%`);
  const lines = [`Grounded Shapes score over ${r.images} captions${r.unknownImages.length ? ` (${r.unknownImages.length} unknown images skipped)` : ''}`];
  for (const [name, score] of Object.entries(r.attributes)) lines.push(`  ${name.padEnd(11)} ${pct(score.precision).padStart(6)}  (${score.correct}/${score.claims} claims)`);
  lines.push(`  ${'overall'.padEnd(11)} ${pct(r.overall.precision).padStart(6)}  (${r.overall.correct}/${r.overall.claims} claims)`);
  lines.push(`  object recall ${pct(r.objectRecall)}, exact captions ${pct(r.exactCaptions)}, captions without claims ${r.captionsWithoutClaims}`);
  return `${lines.join('\n')}\n`;
}
