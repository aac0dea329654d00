/**
 * Which runs belong together on a chart: runs sharing one value of a
 * parameter, or replicates, i.e. runs whose configs differ only at the paths
 * the user says to ignore (typically the seed and the run name), so their
 * curves collapse into one mean line with a min/max band.
 */
import type { CurveGrouping, RunGroup } from '../../shared/contract/compare';
import type { JsonObject, JsonPrimitive } from '../../shared/storeTypes';
import { flattenConfig } from '../store/configDiff';

export interface GroupableRun {
  id: number;
  config: JsonObject;
}

const show = (value: JsonPrimitive | undefined): string => (value === undefined ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value));

/** Whether `path` is one of `prefixes` or lies below one (`augment` covers `augment.0`). */
function under(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}.`));
}

/** Groups in order of their first run; every run is in exactly one group. */
export function groupRuns(runs: readonly GroupableRun[], grouping: CurveGrouping): RunGroup[] {
  const flat = runs.map((run) => flattenConfig(run.config));
  const labels: string[] = [];
  if (grouping.by === 'value') {
    for (const config of flat) labels.push(`${grouping.path} = ${show(config.get(grouping.path))}`);
  } else {
    // The paths that tell groups apart: those differing somewhere, minus the ignored ones.
    const paths = new Set<string>();
    for (const config of flat) for (const path of config.keys()) paths.add(path);
    const distinguishing = [...paths]
      .sort()
      .filter((path) => !under(path, grouping.ignore))
      .filter((path) => flat.some((config) => !Object.is(config.get(path), flat[0]!.get(path))));
    for (const config of flat) {
      labels.push(distinguishing.length === 0 ? 'all runs' : distinguishing.map((path) => `${path} = ${show(config.get(path))}`).join(', '));
    }
  }
  const groups = new Map<string, number[]>();
  runs.forEach((run, index) => {
    const label = labels[index]!;
    const members = groups.get(label);
    if (members) members.push(run.id);
    else groups.set(label, [run.id]);
  });
  return [...groups].map(([label, runIds]) => ({ label, runIds }));
}
