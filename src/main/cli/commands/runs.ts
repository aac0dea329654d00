/** `captioner runs list|show|delete|export`: the experiment store from the command line. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HEADLINE_METRICS, RUN_STATUSES, type MetricSummary, type RunDetail, type RunList, type RunStatus } from '../../../shared/storeTypes';
import { commonOptions, intOption, parse } from '../args';
import { CliError, printJson, withWorkbench, type CliContext } from '../context';
import { skippedImagesOf, type SkippedImagesMeta } from '../../training/skippedImages';
import type { Command } from './types';

const usage = `Usage: captioner runs <list|show|delete|export> [options] [--data-dir DIR]

  captioner runs list [--status S,S] [--tag T] [--search TEXT] [--metric KEY]... [--limit N] [--json]
      Runs, newest first, with the best and last value of each --metric
      (default: whichever of ${HEADLINE_METRICS.join(', ')} the runs logged).
  captioner runs show ID [--json]
      Config, status, timestamps, best and last of every metric, checkpoints.
  captioner runs delete ID... [--force] [--json]
      Deletes runs with their metrics, checkpoints and files under the data
      directory. A queued or running run needs --force.
  captioner runs export ID [--out FILE] [--json]
      The run as one JSON document (config, every metric point, checkpoints,
      samples, evaluations), to FILE or to stdout.

Statuses: ${RUN_STATUSES.join(', ')}.`;

const options = {
  ...commonOptions,
  status: { type: 'string' },
  tag: { type: 'string' },
  search: { type: 'string' },
  metric: { type: 'string', multiple: true },
  limit: { type: 'string' },
  force: { type: 'boolean', default: false },
  out: { type: 'string' },
} as const;

export const runsCommand: Command = {
  name: 'runs',
  summary: 'List, show, delete and export training runs',
  usage,
  async run(argv) {
    const { values, positionals } = parse(argv, options, usage);
    const [action, ...ids] = positionals;
    const session = { dataDir: values['data-dir'], quiet: true };
    switch (action) {
      case 'list': {
        const statuses = parseStatuses(values.status);
        const limit = intOption(values.limit, 'limit', 100);
        const list = await withWorkbench(session, (cli) =>
          listRuns(cli, { status: statuses, tag: values.tag, search: values.search, limit }, values.metric),
        );
        if (values.json) for (const run of list.runs) printJson(run);
        else process.stdout.write(formatRunList(list));
        return;
      }
      case 'show': {
        const runId = singleId(ids, 'show');
        const [detail, skipped] = await withWorkbench(session, async (cli) => [
          await cli.call('runs.get', { runId }),
          skippedImagesOf(await cli.call('runs.artifacts', { runId })),
        ] as const);
        if (values.json) printJson({ ...detail, skippedImages: skipped });
        else process.stdout.write(formatRunDetail(detail, skipped));
        return;
      }
      case 'delete': {
        if (ids.length === 0) throw new CliError(`runs delete needs at least one run id.\n\n${usage}`, 2);
        const runIds = ids.map(parseId);
        await withWorkbench(session, async (cli) => {
          for (const runId of runIds) {
            const run = await cli.call('runs.get', { runId });
            const deleted = await cli.call('runs.delete', { runId, force: values.force });
            if (values.json) printJson(deleted);
            else process.stdout.write(`Deleted run ${runId} (${run.name}): ${deleted.filesRemoved} files removed.\n`);
          }
        });
        return;
      }
      case 'export': {
        const runId = singleId(ids, 'export');
        const exported = await withWorkbench(session, (cli) => cli.call('runs.export', { runId }));
        if (!values.out) {
          printJson(exported);
          return;
        }
        const file = resolve(values.out);
        try {
          writeFileSync(file, `${JSON.stringify(exported, null, 2)}\n`);
        } catch (error) {
          throw new CliError(`Cannot write ${file}: ${(error as Error).message}`);
        }
        const points = Object.values(exported.metrics).reduce((sum, series) => sum + series.length, 0);
        if (values.json) printJson({ runId, file, metricPoints: points });
        else process.stdout.write(`Exported run ${runId} (${exported.run.name}) to ${file}: ${points} metric points.\n`);
        return;
      }
      default:
        throw new CliError(`${action ? `Unknown action "${action}".` : 'Missing action.'}\n\n${usage}`, 2);
    }
  },
};

async function listRuns(
  cli: CliContext,
  filter: { status?: RunStatus[]; tag?: string; search?: string; limit: number },
  metrics: string[] | undefined,
): Promise<RunList> {
  if (metrics?.length) return cli.call('runs.list', { ...filter, metrics: metrics.map((key) => ({ key })) });
  // Without --metric: the headline metrics, dropping columns no listed run has.
  const list = await cli.call('runs.list', { ...filter, metrics: HEADLINE_METRICS.map((key) => ({ key })) });
  const used = HEADLINE_METRICS.filter((_, index) => list.runs.some((run) => (run.metrics[index]?.count ?? 0) > 0));
  return { ...list, runs: list.runs.map((run) => ({ ...run, metrics: run.metrics.filter((metric) => used.includes(metric.key as never)) })) };
}

function parseId(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw new CliError(`"${text}" is not a run id (a positive integer).`, 2);
  return id;
}

function singleId(ids: string[], action: string): number {
  if (ids.length !== 1) throw new CliError(`runs ${action} takes exactly one run id.\n\n${usage}`, 2);
  return parseId(ids[0] as string);
}

function parseStatuses(text: string | undefined): RunStatus[] | undefined {
  if (!text) return undefined;
  return text.split(',').map((status) => {
    const trimmed = status.trim();
    if (!(RUN_STATUSES as readonly string[]).includes(trimmed)) {
      throw new CliError(`--status: "${trimmed}" is not one of ${RUN_STATUSES.join(', ')}.`, 2);
    }
    return trimmed as RunStatus;
  });
}

function number(value: number): string {
  return Math.abs(value) >= 1000 || (Math.abs(value) < 0.001 && value !== 0) ? value.toExponential(3) : value.toFixed(4);
}

function summaryText(summary: MetricSummary | undefined): string {
  if (!summary?.best || !summary.last) return '—';
  return `${number(summary.best.value)} (last ${number(summary.last.value)})`;
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

export function formatRunList(list: RunList): string {
  if (list.runs.length === 0) return 'No runs.\n';
  const keys = list.runs[0]?.metrics.map((metric) => `${metric.key} (${metric.goal === 'min' ? 'best↓' : 'best↑'})`) ?? [];
  const rows = [
    ['id', 'name', 'status', 'created', 'epoch', ...keys, 'tags'],
    ...list.runs.map((run) => [
      String(run.id),
      run.name,
      run.status,
      run.createdAt.slice(0, 16).replace('T', ' '),
      run.lastCheckpoint ? String(run.lastCheckpoint.epoch) : '—',
      ...run.metrics.map(summaryText),
      run.tags.join(','),
    ]),
  ];
  const more = list.total > list.runs.length ? `\n${list.runs.length} of ${list.total} runs shown (--limit).` : '';
  return `${table(rows)}${more}\n`;
}

export function formatRunDetail(run: RunDetail, skipped: SkippedImagesMeta | null = null): string {
  const lines = [
    `Run ${run.id}: ${run.name}`,
    `Status      ${run.status}${run.error ? ` — ${run.error}` : ''}`,
    `Created     ${run.createdAt}`,
    `Started     ${run.startedAt ?? '—'}`,
    `Finished    ${run.finishedAt ?? '—'}`,
    `Heartbeat   ${run.heartbeatAt ?? '—'}`,
    `Backend     ${run.backend ?? '—'} on ${run.machine ?? '—'}`,
    `Dataset     ${run.datasetId ?? '—'}${run.trialId ? `   Trial ${run.trialId}` : ''}`,
    `Tags        ${run.tags.join(', ') || '—'}`,
    `Checkpoint  ${run.lastCheckpoint ? `epoch ${run.lastCheckpoint.epoch}, step ${run.lastCheckpoint.step}: ${run.lastCheckpoint.path}` : '—'} (${run.checkpointCount} in all)`,
    `Samples     ${run.sampleEpochs.length ? `epochs ${run.sampleEpochs.join(', ')}` : '—'}`,
  ];
  if (skipped) {
    const shown = skipped.images.slice(0, 20);
    lines.push('', `Skipped images: ${skipped.count} could not be decoded and were left out of training`);
    for (const image of shown) lines.push(`  ${image.file}: ${image.reason}`);
    if (skipped.count > shown.length) lines.push(`  … and ${skipped.count - shown.length} more (skipped-images.json in the run's folder)`);
  }
  if (run.notes) lines.push('', 'Notes', ...run.notes.split('\n').map((line) => `  ${line}`));
  lines.push('', 'Config', `  ${JSON.stringify(run.config, null, 2).split('\n').join('\n  ')}`);
  if (run.metrics.length) {
    lines.push(
      '',
      table([
        ['metric', 'goal', 'best', 'at epoch/step', 'last', 'at epoch/step', 'points'],
        ...run.metrics.map((metric) => [
          metric.key,
          metric.goal,
          metric.best ? number(metric.best.value) : '—',
          metric.best ? `${metric.best.epoch}/${metric.best.step}` : '—',
          metric.last ? number(metric.last.value) : '—',
          metric.last ? `${metric.last.epoch}/${metric.last.step}` : '—',
          String(metric.count),
        ]),
      ]),
    );
  } else {
    lines.push('', 'No metrics logged.');
  }
  return `${lines.join('\n')}\n`;
}
