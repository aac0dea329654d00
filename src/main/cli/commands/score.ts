/** `captioner score`: coco-caption metrics for a COCO results file. */
import { resolve } from 'node:path';
import type { GroundedSummary, ScoreReport } from '../../../shared/inferenceTypes';
import { METRIC_KEYS, METRIC_NAMES } from '../../lib/metrics/definitions';
import { commonOptions, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import type { Command } from './types';

const usage = `Usage: captioner score --refs ANNOTATIONS --results RESULTS [--per-image] [--json]

Scores candidate captions with BLEU-1..4, ROUGE-L and CIDEr-D, computed as
coco-caption computes them, after the workbench's PTB-like tokenization of
candidates and references alike.

  --refs FILE      reference captions: COCO annotations JSON
                   (captions_val2014.json) or a Karpathy split JSON
                   (dataset_coco.json, or the one \`captioner synth\` writes)
  --results FILE   candidates in the COCO results format:
                   [{"image_id": 42, "caption": "a dog on a couch"}, ...]
                   Only these images are scored; each needs references.
  --per-image      also print every image's scores
  --json           print the report as one JSON line

When the references are a Shapes dataset (\`captioner synth\`), the grounded
Shapes accuracy (are the stated shapes, colours, counts and relations true of
the scene?) is printed beside the metrics.

METEOR and SPICE are not computed: they need external Java programs and data.`;

export const scoreCommand: Command = {
  name: 'score',
  summary: 'Score a COCO results file: BLEU-1..4, ROUGE-L, CIDEr-D',
  usage,
  async run(argv) {
    const { values } = parse(argv, { ...commonOptions, refs: { type: 'string' }, results: { type: 'string' }, 'per-image': { type: 'boolean', default: false } }, usage);
    if (!values.refs) throw new CliError(`--refs is required.\n\n${usage}`, 2);
    if (!values.results) throw new CliError(`--results is required.\n\n${usage}`, 2);
    const request = { refs: resolve(values.refs), results: resolve(values.results), perImage: values['per-image'] };
    const report = await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: true }, (cli) => cli.call('eval.score', request));
    if (values.json) printJson(report);
    else process.stdout.write(formatScoreReport(report));
  },
};

/** The grounded Shapes accuracy as a small table: precision of each kind of claim. */
export function formatGrounded(grounded: GroundedSummary): string[] {
  const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1)}%`);
  return [
    `Grounded Shapes accuracy (${grounded.images} captions checked against ${grounded.scenesFile})`,
    ...Object.entries(grounded.attributes).map(
      ([name, score]) => `  ${name.padEnd(11)} ${percent(score.precision).padStart(6)}  (${score.correct}/${score.claims} claims true)`,
    ),
    `  ${'overall'.padEnd(11)} ${percent(grounded.overall.precision).padStart(6)}  (${grounded.overall.correct}/${grounded.overall.claims})`,
    `  objects named with the right shape and colour: ${percent(grounded.objectRecall)}; captions with no false claim: ${percent(grounded.exactCaptions)}`,
  ];
}

export function formatScoreReport(report: ScoreReport): string {
  const splits = Object.entries(report.splits)
    .map(([split, count]) => `${split} ${count}`)
    .join(', ');
  const lines = [
    `Scored ${report.results.captions} captions from ${report.results.file}`,
    `against ${report.refs.file} (${report.refs.format === 'coco' ? 'COCO annotations' : 'Karpathy split JSON'}, ${report.refs.images} images with references; scored splits: ${splits})`,
    `Tokenization: ${report.tokenization.name}. Metrics: ${report.metrics.version} (${report.metrics.reference}).`,
    '',
    ...METRIC_KEYS.map((key) => `${METRIC_NAMES[key].padEnd(9)} ${report.aggregate[key].toFixed(4)}`),
    '',
    ...report.metrics.unavailable.map((metric) => `${metric.name}: not computed: ${metric.reason}`),
  ];
  if (report.grounded) lines.push('', ...formatGrounded(report.grounded));
  if (report.perImage) {
    lines.push('', ['image', ...METRIC_KEYS.map((key) => METRIC_NAMES[key]), 'caption (tokenized)'].join('\t'));
    for (const image of report.perImage) {
      lines.push([image.imageId, ...METRIC_KEYS.map((key) => image.scores[key].toFixed(4)), image.candidate].join('\t'));
    }
  }
  return `${lines.join('\n')}\n`;
}
