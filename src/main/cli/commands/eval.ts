/** `captioner eval`: evaluate a run's checkpoint on a split; the evaluation is stored with the run. */
import type { CheckpointChoice, EvaluationSummary } from '../../../shared/inferenceTypes';
import { EVAL_SPLITS } from '../../../shared/inferenceTypes';
import { METRIC_KEYS, METRIC_NAMES } from '../../lib/metrics/definitions';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench } from '../context';
import { decodingFlags, decodingFromFlags, decodingUsage, describeDecoding, recommendationNote, recommendedFlag, recommendedUsage, runRecommendation, withRecommendedDecoding } from '../decodingOptions';
import { followTask } from '../tasks';
import { formatGrounded } from './score';
import type { Command } from './types';

const usage = `Usage: captioner eval --run RUN [--checkpoint best|last|EPOCH] [--split test] [decoding] [--json]

Captions every image of a split with a checkpoint of a run and scores the
captions with BLEU-1..4, ROUGE-L and CIDEr-D (coco-caption definitions; plus
the grounded Shapes accuracy on Shapes datasets). The evaluation is stored
with the run (captions, per-image and aggregate scores, decoding settings,
metric definitions, tokenization) and the captions are written as a COCO
results file.

  --run ID            the run (see \`captioner runs list\`)
  --checkpoint C      best (default), last, or the epoch number of a checkpoint
  --split S           ${EVAL_SPLITS.join(', ')} (default test): the run's own split of its dataset
  --dataset PATH      evaluate on another dataset instead
  --limit N           only the first N images of the split
  --batch-size N      images captioned per forward pass (default 16)
  --json              print the result as one JSON line

${decodingUsage}
${recommendedUsage}

Without --recommended, the run's recommended decoding (the decoding section
of its config, which the app's evaluation form starts from) is not applied:
the flags say how to decode, so a script's numbers do not change under it,
and the result names what the run recommends and was left out.

Ctrl-C stops the evaluation cleanly.`;

export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate a checkpoint on a split (BLEU, ROUGE-L, CIDEr-D)',
  usage,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        ...commonOptions,
        ...decodingFlags,
        ...recommendedFlag,
        run: { type: 'string' },
        checkpoint: { type: 'string', default: 'best' },
        split: { type: 'string', default: 'test' },
        dataset: { type: 'string' },
        limit: { type: 'string' },
        'batch-size': { type: 'string' },
      },
      usage,
    );
    if (!values.run) throw new CliError(`--run is required.\n\n${usage}`, 2);
    const runId = intOption(values.run, 'run', 0);
    const checkpoint: CheckpointChoice =
      values.checkpoint === 'best' || values.checkpoint === 'last' ? values.checkpoint : intOption(values.checkpoint, 'checkpoint', 0);
    if (!(EVAL_SPLITS as readonly string[]).includes(values.split)) throw new CliError(`--split must be one of ${EVAL_SPLITS.join(', ')}.`, 2);
    const request = {
      runId,
      checkpoint,
      split: values.split as (typeof EVAL_SPLITS)[number],
      ...(values.dataset ? { dataset: values.dataset } : {}),
      decoding: decodingFromFlags(values),
      limit: intOption(values.limit, 'limit', 0),
      batchSize: intOption(values['batch-size'], 'batch-size', 16),
    };
    const { summary, note } = await withWorkbench({ dataDir: values['data-dir'], store: values.store, quiet: values.json }, async (cli) => {
      const recommended = await runRecommendation(cli, runId);
      const decoding = values.recommended ? withRecommendedDecoding(recommended, request.decoding) : request.decoding;
      const summary = await followTask<EvaluationSummary>(cli, () => cli.call('eval.start', { ...request, decoding }), { showProgress: !values.json });
      return { summary, note: values.json ? '' : recommendationNote(recommended, summary.decoding) };
    });
    if (values.json) printJson(summary);
    else process.stdout.write(formatEvaluation(summary) + note);
  },
};

export function formatEvaluation(summary: EvaluationSummary): string {
  const lines = [
    `Evaluation ${summary.evaluationId}: run ${summary.runId}, checkpoint ${summary.checkpointPath}`,
    `${summary.images} ${summary.split} images in ${summary.seconds.toFixed(1)} s${summary.failures ? ` (${summary.failures} could not be captioned)` : ''}; decoding: ${describeDecoding(summary.decoding)}`,
    '',
    ...METRIC_KEYS.map((key) => `${METRIC_NAMES[key].padEnd(9)} ${summary.aggregate[key].toFixed(4)}`),
  ];
  if (summary.grounded) lines.push('', ...formatGrounded(summary.grounded));
  lines.push('', `COCO results: ${summary.resultsPath}`, 'METEOR and SPICE are not computed (they need external Java tools and data).', '');
  return lines.join('\n');
}
