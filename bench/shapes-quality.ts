/**
 * `npm run bench -- shapes-quality [--seeds 1,2,3] [--minutes 10] [--images 2000]
 *   [--preset shapes-grounded] [--epochs N] [--set PATH=VALUE]... [--beam W]
 *   [--plain | --mirror-consensus --converse-consensus --relation-search] [--keep DIR]`
 *
 * The Shapes benchmark end to end, as a user runs it: for each synthesis
 * seed, `captioner synth`, `captioner train` with the preset inside a time
 * budget (`training.maxMinutes`), then `captioner eval --split test --beam 3
 * --recommended` (beam 3 with the consensus decodings the run's config
 * recommends, as the app's forms decode it; `--beam W` for another width,
 * `--plain` for beam search alone, or any of `--mirror-consensus`,
 * `--converse-consensus` and `--relation-search` for exactly those) with
 * the grounded scorer. One JSON line per seed (grounded precision per
 * attribute, object recall, exact captions, BLEU-4, CIDEr-D, and the same
 * numbers for the human references of the test split: each reference scored
 * leave-one-out against the other four, and the checkpoint scored: the
 * run's best by validation CIDEr-D, not always its last epoch), then a
 * summary line with the mean and spread (min, max, standard deviation) over
 * the seeds.
 *
 * Every step runs the real CLI in a child process, so the numbers are the
 * ones a user gets. The time budget is wall clock: on a shared or busy
 * machine fewer epochs fit, and the line says how many did.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONSENSUS_KINDS } from '../src/shared/consensusKinds';
import { GROUNDED_ATTRIBUTES, loadScenes, sceneIndex, scoreGrounded, type GroundedReport } from '../src/main/lib/data/shapes/grounded';
import { bleu } from '../src/main/lib/metrics/bleu';
import { ciderD } from '../src/main/lib/metrics/cider';
import type { ScoringItem } from '../src/main/lib/metrics/ngrams';
import { readReferences } from '../src/main/lib/eval/references';
import { tokenizeForMetrics } from '../src/main/lib/eval/tokenization';

const CLI = join(__dirname, '..', 'bin', 'captioner.cjs');

/** Runs the CLI with `--json`; answers its stdout lines parsed as JSON (non-JSON lines are dropped). */
function captioner(args: string[], timeoutMs: number): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args, '--json'], { maxBuffer: 256 * 1024 * 1024, timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`captioner ${args.join(' ')} failed (${error.message}):\n${stderr.slice(-2000)}`));
        return;
      }
      const lines = stdout.split('\n').flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
      resolve(lines);
    });
  });
}

/** The grounded numbers a line reports. */
export interface QualityScores {
  precision: Record<string, number | null>;
  overall: number | null;
  objectRecall: number | null;
  exactCaptions: number | null;
}

export function qualityScores(report: Pick<GroundedReport, 'attributes' | 'overall' | 'objectRecall' | 'exactCaptions'>): QualityScores {
  const precision: Record<string, number | null> = {};
  for (const attribute of GROUNDED_ATTRIBUTES) precision[attribute] = report.attributes[attribute].precision;
  return { precision, overall: report.overall.precision, objectRecall: report.objectRecall, exactCaptions: report.exactCaptions };
}

/**
 * The human references of a split scored like a model: reference k of every
 * image is the candidate and the other references are its references (BLEU-4,
 * CIDEr-D), and its claims are checked against the scene; averaged over k.
 */
export async function referenceScores(datasetDir: string, split: string): Promise<QualityScores & { bleu4: number; ciderD: number }> {
  const references = readReferences(join(datasetDir, 'dataset_shapes.json'));
  const images = references.images.filter((image) => image.split === split);
  const scenes = sceneIndex(await loadScenes(join(datasetDir, 'scenes.json')));
  const perCaption = Math.min(...images.map((image) => image.captions.length));
  const runs: Array<QualityScores & { bleu4: number; ciderD: number }> = [];
  for (let k = 0; k < perCaption; k++) {
    const items: ScoringItem[] = images.map((image) => ({
      imageId: image.imageId,
      candidate: tokenizeForMetrics(image.captions[k]!),
      references: image.captions.filter((_, i) => i !== k).map(tokenizeForMetrics),
    }));
    const grounded = scoreGrounded(
      scenes,
      images.map((image) => [image.fileName ?? image.imageId, image.captions[k]!] as [string, string]),
    );
    runs.push({ ...qualityScores(grounded), bleu4: bleu(items, 4).corpus[3]!, ciderD: ciderD(items).corpus });
  }
  const average = (pick: (run: (typeof runs)[number]) => number | null): number | null => {
    const values = runs.map(pick).filter((value): value is number => value !== null);
    return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  const precision: Record<string, number | null> = {};
  for (const attribute of GROUNDED_ATTRIBUTES) precision[attribute] = average((run) => run.precision[attribute] ?? null);
  return {
    precision,
    overall: average((run) => run.overall),
    objectRecall: average((run) => run.objectRecall),
    exactCaptions: average((run) => run.exactCaptions),
    bleu4: average((run) => run.bleu4) ?? 0,
    ciderD: average((run) => run.ciderD) ?? 0,
  };
}

const round = (value: number | null | undefined, digits = 4): number | null =>
  value === null || value === undefined || !Number.isFinite(value) ? null : Number(value.toFixed(digits));

function spread(values: Array<number | null>): { mean: number | null; min: number | null; max: number | null; std: number | null } {
  const known = values.filter((value): value is number => value !== null);
  if (known.length === 0) return { mean: null, min: null, max: null, std: null };
  const mean = known.reduce((a, b) => a + b, 0) / known.length;
  const std = Math.sqrt(known.reduce((sum, value) => sum + (value - mean) ** 2, 0) / known.length);
  return { mean: round(mean), min: round(Math.min(...known)), max: round(Math.max(...known)), std: round(std) };
}

interface SeedLine {
  seed: number;
  model: QualityScores & { claims: Record<string, number>; bleu4: number | null; ciderD: number | null };
  references: QualityScores & { bleu4: number; ciderD: number };
  [key: string]: unknown;
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seeds: { type: 'string', default: '1' },
      minutes: { type: 'string', default: '10' },
      images: { type: 'string', default: '2000' },
      preset: { type: 'string', default: 'shapes-grounded' },
      epochs: { type: 'string' },
      beam: { type: 'string', default: '3' },
      plain: { type: 'boolean', default: false },
      'mirror-consensus': { type: 'boolean', default: false },
      'converse-consensus': { type: 'boolean', default: false },
      'relation-search': { type: 'boolean', default: false },
      set: { type: 'string', multiple: true, default: [] },
      keep: { type: 'string' },
    },
  });
  const seeds = values.seeds.split(',').map((text) => {
    const seed = Number(text);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seeds: "${text}" is not a non-negative integer.`);
    return seed;
  });
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes: "${values.minutes}" is not a positive number.`);
  const chosenFlags = CONSENSUS_KINDS.filter(({ flag }) => values[flag]).map(({ flag }) => `--${flag}`);
  if (values.plain && chosenFlags.length) throw new Error(`--plain decodes with beam search alone: leave out ${chosenFlags.join(' ')}.`);
  const decodingFlags = ['--beam', values.beam, ...(chosenFlags.length ? chosenFlags : values.plain ? [] : ['--recommended'])];
  const root = values.keep ?? mkdtempSync(join(tmpdir(), 'captioner-bench-shapes-quality-'));
  mkdirSync(root, { recursive: true });
  const dataDir = join(root, 'data');
  const lines: SeedLine[] = [];
  try {
    for (const seed of seeds) {
      const dataset = join(root, `shapes-s${seed}`);
      await captioner(['synth', '--out', dataset, '--images', values.images, '--seed', String(seed)], 30 * 60_000);
      const trainArgs = ['train', '--dataset', dataset, '--preset', values.preset, '--data-dir', dataDir, '--set', `training.maxMinutes=${minutes}`];
      if (values.epochs) trainArgs.push('--epochs', values.epochs);
      for (const override of values.set) trainArgs.push('--set', override);
      const started = performance.now();
      const events = await captioner(trainArgs, (minutes + 30) * 60_000);
      const trainSeconds = (performance.now() - started) / 1000;
      const epochs = events.filter((event) => event.type === 'epoch');
      const final = events[events.length - 1] ?? {};
      const runId = (events.find((event) => event.type === 'started')?.runId ?? final.runId) as number | undefined;
      if (runId === undefined) throw new Error(`captioner train printed no run id for seed ${seed}.`);
      const evaluation = (await captioner(['eval', '--run', String(runId), '--split', 'test', ...decodingFlags, '--data-dir', dataDir], 30 * 60_000)).pop() ?? {};
      const grounded = evaluation.grounded as GroundedReport | undefined;
      if (!grounded) throw new Error(`captioner eval of run ${runId} reported no grounded score (is scenes.json in ${dataset}?).`);
      const aggregate = (evaluation.aggregate ?? (evaluation.scores as Record<string, unknown> | undefined)?.aggregate ?? evaluation.scores) as
        | Record<string, number>
        | undefined;
      const line: SeedLine = {
        bench: 'shapes-quality',
        seed,
        preset: values.preset,
        overrides: values.set,
        // What the evaluation decoded with, as flags (with --recommended, what the run's config added).
        decoding: ['--beam', values.beam, ...CONSENSUS_KINDS.filter(({ key }) => (evaluation.decoding as Record<string, unknown> | undefined)?.[key] === true).map(({ flag }) => `--${flag}`)].join(' '),
        recommended: chosenFlags.length === 0 && !values.plain,
        images: Number(values.images),
        budgetMinutes: minutes,
        epochsTrained: epochs.length,
        trainSeconds: round(trainSeconds, 1),
        secondsPerEpoch: round(epochs.reduce((sum, event) => sum + Number(event.seconds ?? 0), 0) / Math.max(1, epochs.length), 1),
        outcome: final.outcome ?? final.status ?? null,
        runId,
        // `captioner eval` scores the best checkpoint by validation CIDEr-D, which need not be the last epoch.
        checkpoint: evaluation.checkpointPath ?? null,
        scoredEpoch: epochs[epochs.length - 1]?.bestEpoch ?? null,
        model: {
          ...qualityScores(grounded),
          // A precision over 2 claims is not one over 300: relations and positions are often rare.
          claims: Object.fromEntries(GROUNDED_ATTRIBUTES.map((attribute) => [attribute, grounded.attributes[attribute].claims])),
          bleu4: round(aggregate?.bleu4),
          ciderD: round(aggregate?.ciderD),
        },
        references: await referenceScores(dataset, 'test'),
        cores: availableParallelism(),
        cpu: cpus()[0]?.model ?? 'unknown',
        loadAverage: round(loadavg()[0] ?? 0, 2),
      };
      lines.push(line);
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
    const summary: Record<string, unknown> = { bench: 'shapes-quality', summary: true, seeds, preset: values.preset, budgetMinutes: minutes };
    const model: Record<string, unknown> = {};
    for (const attribute of GROUNDED_ATTRIBUTES) model[attribute] = spread(lines.map((line) => line.model.precision[attribute] ?? null));
    for (const key of ['overall', 'objectRecall', 'exactCaptions', 'bleu4', 'ciderD'] as const) model[key] = spread(lines.map((line) => line.model[key]));
    summary.model = model;
    summary.references = {
      objectRecall: spread(lines.map((line) => line.references.objectRecall)),
      exactCaptions: spread(lines.map((line) => line.references.exactCaptions)),
      bleu4: spread(lines.map((line) => line.references.bleu4)),
      ciderD: spread(lines.map((line) => line.references.ciderD)),
    };
    summary.epochsTrained = spread(lines.map((line) => line.epochsTrained as number));
    summary.secondsPerEpoch = spread(lines.map((line) => line.secondsPerEpoch as number));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    if (!values.keep) rmSync(root, { recursive: true, force: true });
  }
}
