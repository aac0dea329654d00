/** `--set PATH=VALUE` on the command line: `captioner train`, `captioner study enqueue`, and the benches that take a configuration. */
import { CliError } from './context';

/** One `--set PATH=VALUE`: the dotted path, and the value as JSON where it parses (256, true, "lstm"), else the text (a bare word: gru). */
export function parseAssignment(assignment: string): { path: string; value: unknown; text: string } {
  const equals = assignment.indexOf('=');
  if (equals <= 0) throw new CliError(`--set needs PATH=VALUE (got "${assignment}").`, 2);
  const text = assignment.slice(equals + 1);
  return { path: assignment.slice(0, equals).trim(), value: parseValue(text), text };
}

/** `--set PATH=VALUE` assignments as one nested override object. */
export function overridesFromAssignments(assignments: readonly string[]): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const { path, value } = parseAssignment(assignment);
    setPath(overrides, path, value);
  }
  return overrides;
}

/** Sets `path` (dotted) in `target`, creating the objects on the way. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.').filter(Boolean);
  if (keys.length === 0) throw new CliError(`--set: empty field path.`, 2);
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
