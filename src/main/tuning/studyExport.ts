/**
 * A whole study as one document (`tuning.export`, `captioner study export`),
 * and its trials as the CSV table Optuna's `study.trials_dataframe()` gives
 * (`to_csv(index=False)`): number, value, datetime_start, datetime_complete,
 * duration, one `params_<name>` column per parameter in name order, then the
 * workbench's own columns as user attributes (`user_attrs_run_id`,
 * `user_attrs_state`), and state in Optuna's words (COMPLETE, PRUNED, FAIL,
 * RUNNING, WAITING); a pruned trial's value is its last intermediate value,
 * as Optuna records it.
 */
import type { ExportedTrial, StudyBudget, StudyDetails, StudyExport } from '../../shared/contract/tuning';
import type { TrialState } from '../../shared/storeTypes';

export function studyExportDocument(details: StudyDetails, budget: StudyBudget, exportedAt = new Date()): StudyExport {
  const { study } = details;
  const trials: ExportedTrial[] = details.trials.map((t) => ({
    number: t.number,
    state: t.state,
    params: t.params,
    value: t.value,
    intermediates: t.intermediates.map(({ step, value }) => ({ step, value })),
    runId: t.runId,
    error: t.error,
    createdAt: t.createdAt,
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
  }));
  const best = details.best;
  return {
    format: 'captioner-study',
    version: 1,
    exportedAt: exportedAt.toISOString(),
    study: { id: study.id, name: study.name, status: study.status, objective: study.objective, direction: study.direction, createdAt: study.createdAt, updatedAt: study.updatedAt },
    budget,
    searchSpace: study.searchSpace,
    sampler: study.sampler,
    pruner: study.pruner,
    baseConfig: study.baseConfig,
    trials,
    best: best && best.value !== null ? { number: best.number, value: best.value, params: best.params, runId: best.runId } : null,
  };
}

/** Optuna's TrialState names for the workbench's trial states (a cancelled or crashed trial is a failure there). */
const OPTUNA_STATE: Record<TrialState, string> = {
  queued: 'WAITING',
  running: 'RUNNING',
  completed: 'COMPLETE',
  pruned: 'PRUNED',
  failed: 'FAIL',
  cancelled: 'FAIL',
  crashed: 'FAIL',
};

/** As pandas prints a Timestamp: `2026-11-30 11:02:52.123000`. */
function pandasTime(iso: string | null): string {
  if (iso === null) return '';
  const date = new Date(iso);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}000`;
}

/** As pandas prints a Timedelta: `0 days 00:01:02.345000`. */
function pandasDuration(start: string | null, end: string | null): string {
  if (start === null || end === null) return '';
  const ms = Math.max(0, Date.parse(end) - Date.parse(start));
  const days = Math.floor(ms / 86_400_000);
  const rest = ms - days * 86_400_000;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const h = Math.floor(rest / 3_600_000);
  const m = Math.floor((rest % 3_600_000) / 60_000);
  const s = Math.floor((rest % 60_000) / 1000);
  return `${days} days ${pad(h)}:${pad(m)}:${pad(s)}.${pad(rest % 1000, 3)}000`;
}

/** A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180, as pandas writes). */
function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The trials table as CSV, one row per trial in number order. */
export function trialsDataframeCsv(document: StudyExport): string {
  const names = [...new Set([...Object.keys(document.searchSpace), ...document.trials.flatMap((t) => Object.keys(t.params))])].sort();
  const header = ['number', 'value', 'datetime_start', 'datetime_complete', 'duration', ...names.map((name) => `params_${name}`), 'user_attrs_run_id', 'user_attrs_state', 'state'];
  const rows = document.trials.map((t) => {
    const start = t.startedAt ?? t.createdAt;
    // Optuna gives a pruned trial its last intermediate value as its value.
    const value = t.state === 'pruned' ? (t.intermediates.at(-1)?.value ?? null) : t.value;
    return [
      t.number,
      value,
      pandasTime(start),
      pandasTime(t.finishedAt),
      pandasDuration(start, t.finishedAt),
      ...names.map((name) => t.params[name]),
      t.runId,
      t.state,
      OPTUNA_STATE[t.state],
    ]
      .map(field)
      .join(',');
  });
  return `${[header.join(','), ...rows].join('\n')}\n`;
}
