/**
 * Config differences between runs: each config flattened to dotted key paths
 * (`model.lstmUnits`, `augment.0`), then the paths whose values are not the
 * same in every run. What the compare page shows beside the curves.
 */
import type { ConfigDifference, JsonObject, JsonPrimitive, JsonValue } from '../../shared/storeTypes';

/** Leaves of a JSON value by dotted path; empty objects and arrays are leaves of their own. */
export function flattenConfig(value: JsonValue, prefix = '', into = new Map<string, JsonPrimitive>()): Map<string, JsonPrimitive> {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((item, index) => [String(index), item] as const) : Object.entries(value);
    if (entries.length === 0) {
      // An empty list or object still differs from a non-empty one.
      if (prefix) into.set(prefix, Array.isArray(value) ? '[]' : '{}');
      return into;
    }
    for (const [key, child] of entries) flattenConfig(child, prefix ? `${prefix}.${key}` : key, into);
    return into;
  }
  into.set(prefix, value);
  return into;
}

/** Paths (sorted) whose value differs between any two configs, or is missing from some. */
export function diffConfigs(configs: ReadonlyArray<{ runId: number; config: JsonObject }>): ConfigDifference[] {
  const flat = configs.map(({ config }) => flattenConfig(config));
  const paths = new Set<string>();
  for (const map of flat) for (const path of map.keys()) paths.add(path);
  const differences: ConfigDifference[] = [];
  for (const path of [...paths].sort()) {
    const present = flat.map((map) => map.has(path));
    const values = flat.map((map) => (map.has(path) ? (map.get(path) as JsonPrimitive) : null));
    const first = values[0];
    const differs = present.some((has) => !has) || values.some((value) => !Object.is(value, first));
    if (!differs) continue;
    differences.push({
      path,
      values,
      missingIn: configs.filter((_, index) => !present[index]).map(({ runId }) => runId),
    });
  }
  return differences;
}
