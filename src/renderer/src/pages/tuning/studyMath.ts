/**
 * What the study view derives from a study's trials: the best-so-far curve,
 * each parameter's axis (numeric, log or categorical), trial durations and
 * the training time pruning saved. Plain functions, so the charts and the
 * bench share them and they stay cheap at a thousand trials.
 */
import type { StudyDetails, StudyTrial } from '../../../../shared/contract/tuning';

export type Direction = 'minimize' | 'maximize';

export const better = (direction: Direction, a: number, b: number): boolean => (direction === 'minimize' ? a < b : a > b);

/** Completed trials in number order with their value and the best value up to them. */
export function history(trials: readonly StudyTrial[], direction: Direction): Array<{ number: number; value: number; best: number }> {
  const out: Array<{ number: number; value: number; best: number }> = [];
  let best = NaN;
  for (const t of [...trials].sort((a, b) => a.number - b.number)) {
    if (t.state !== 'completed' || t.value === null) continue;
    if (Number.isNaN(best) || better(direction, t.value, best)) best = t.value;
    out.push({ number: t.number, value: t.value, best });
  }
  return out;
}

export interface ParamAxis {
  name: string;
  log: boolean;
  /** Set for categorical parameters; values are then indices into it. */
  categories?: string[];
}

/** One axis per parameter of the study's search space (its JSON form). */
export function paramAxes(space: Record<string, unknown>): ParamAxis[] {
  return Object.entries(space)
    .map(([name, spec]) => {
      const s = spec as { type?: string; log?: boolean; choices?: unknown[] };
      if (s.type === 'categorical') return { name, log: false, categories: (s.choices ?? []).map((c) => String(c)) };
      return { name, log: s.log === true };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A trial's parameter as a plotted number (a choice's index for categorical ones); null when absent. */
export function axisValue(axis: ParamAxis, params: Record<string, unknown>): number | null {
  const v = params[axis.name];
  if (v === undefined) return null;
  if (axis.categories) {
    const i = axis.categories.indexOf(String(v));
    return i < 0 ? null : i;
  }
  return typeof v === 'number' ? v : null;
}

export function durationSeconds(trial: Pick<StudyTrial, 'startedAt' | 'finishedAt'>, now = Date.now()): number | null {
  if (!trial.startedAt) return null;
  const end = trial.finishedAt ? Date.parse(trial.finishedAt) : now;
  return Math.max(0, (end - Date.parse(trial.startedAt)) / 1000);
}

/** Epochs a trial's run was configured for: its own `training.epochs` parameter, else the base config's, else 20 (the RunConfig default). */
export function plannedEpochs(details: Pick<StudyDetails, 'study'>, trial: Pick<StudyTrial, 'params'>): number {
  const own = trial.params['training.epochs'];
  if (typeof own === 'number') return own;
  const base = (details.study.baseConfig as { training?: { epochs?: unknown } }).training?.epochs;
  return typeof base === 'number' ? base : 20;
}

export interface PruningSavings {
  prunedTrials: number;
  /** Epochs the pruned trials did not train. */
  epochsSaved: number;
  /** Epochs trained by all finished trials. */
  epochsTrained: number;
  /** Mean measured seconds per trained epoch (finished trials with a duration), null before any. */
  secondsPerEpoch: number | null;
  /** epochsSaved × secondsPerEpoch. */
  secondsSaved: number | null;
  /** Training time of the same trials without pruning (trained + saved epochs). */
  secondsWithoutPruning: number | null;
}

/**
 * What pruning saved: every pruned trial would have trained its planned
 * epochs; it trained as many as it reported. Seconds come from the finished
 * trials' measured durations per epoch.
 */
export function pruningSavings(details: StudyDetails): PruningSavings {
  let epochsSaved = 0;
  let epochsTrained = 0;
  let prunedTrials = 0;
  let seconds = 0;
  let timedEpochs = 0;
  for (const t of details.trials) {
    if (t.state !== 'completed' && t.state !== 'pruned') continue;
    const trained = t.intermediates.reduce((max, p) => Math.max(max, p.step), 0);
    epochsTrained += trained;
    if (t.state === 'pruned') {
      prunedTrials += 1;
      epochsSaved += Math.max(0, plannedEpochs(details, t) - trained);
    }
    const d = durationSeconds(t);
    if (d !== null && t.finishedAt && trained > 0) {
      seconds += d;
      timedEpochs += trained;
    }
  }
  const secondsPerEpoch = timedEpochs > 0 ? seconds / timedEpochs : null;
  return {
    prunedTrials,
    epochsSaved,
    epochsTrained,
    secondsPerEpoch,
    secondsSaved: secondsPerEpoch === null ? null : epochsSaved * secondsPerEpoch,
    secondsWithoutPruning: secondsPerEpoch === null ? null : (epochsTrained + epochsSaved) * secondsPerEpoch,
  };
}

/** A stored sampler or pruner: JSON `{ name, options }` (older studies: a bare name). */
function parseAlgorithm(text: string): { name: string; options: Record<string, unknown> } {
  if (text.trim().startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as { name?: unknown; options?: Record<string, unknown> };
      return { name: String(parsed.name ?? text), options: parsed.options ?? {} };
    } catch {
      // Not JSON after all: shown as stored.
    }
  }
  return { name: text, options: {} };
}

/** "median": a stored sampler or pruner by name, as the study list shows it. */
export function algorithmName(text: string): string {
  return parseAlgorithm(text).name;
}

/** "median (nStartupTrials 2, nWarmupSteps 0)": with its options, as a study's header shows it. */
export function algorithmDescription(text: string): string {
  const { name, options } = parseAlgorithm(text);
  const settings = Object.entries(options).map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : formatParam(value)}`);
  return settings.length ? `${name} (${settings.join(', ')})` : name;
}

export const formatSeconds = (s: number): string => (s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);

export function formatParam(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
  return String(v);
}

/** One field of the "Enqueue trial" form: a number within a range, or one of a parameter's choices. */
export interface EnqueueField {
  name: string;
  /** Numeric parameters: the range, the step (int parameters at least 1) and the scale. */
  low?: number;
  high?: number;
  step?: number;
  log?: boolean;
  integer?: boolean;
  /** Categorical parameters: the choices, as JSON values. */
  choices?: Array<string | number | boolean | null>;
}

/** The form's fields for a study's search space (its JSON form), in name order. */
export function enqueueFields(space: Record<string, unknown>): EnqueueField[] {
  return Object.entries(space)
    .map(([name, spec]): EnqueueField => {
      const s = spec as { type?: string; low?: number; high?: number; step?: number; log?: boolean; choices?: Array<string | number | boolean | null> };
      if (s.type === 'categorical') return { name, choices: s.choices ?? [] };
      const integer = s.type === 'int';
      return { name, low: s.low, high: s.high, log: s.log === true, integer, ...(s.step !== undefined ? { step: s.step } : integer ? { step: 1 } : {}) };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The fixed parameters the form's entries give: an empty entry is left to
 * the sampler; a numeric entry must be a number; a categorical entry is the
 * index of its choice. Errors name the parameter (the main process checks
 * ranges and steps against the space again).
 */
export function enqueueParams(fields: readonly EnqueueField[], entries: Record<string, string>): Record<string, string | number | boolean | null> {
  const params: Record<string, string | number | boolean | null> = {};
  for (const field of fields) {
    const text = (entries[field.name] ?? '').trim();
    if (text === '') continue;
    if (field.choices) {
      const index = Number(text);
      if (!Number.isInteger(index) || index < 0 || index >= field.choices.length) throw new Error(`${field.name}: pick one of its choices.`);
      params[field.name] = field.choices[index]!;
      continue;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`${field.name}: "${text}" is not a number.`);
    if ((field.low !== undefined && value < field.low) || (field.high !== undefined && value > field.high)) throw new Error(`${field.name}: ${value} is outside ${field.low} to ${field.high}.`);
    if (field.integer && !Number.isInteger(value)) throw new Error(`${field.name}: must be a whole number.`);
    params[field.name] = value;
  }
  return params;
}
