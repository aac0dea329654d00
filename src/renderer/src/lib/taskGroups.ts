/**
 * Groups tasks under the task that started them (a batch job's shards under
 * the job, a study's trials under the study), so the Jobs drawer lists a job
 * once, with one line that sums up its children, instead of every shard.
 * Plain TypeScript so the grouping is unit-tested without a page.
 */
import { TASK_STATES, type TaskRecord, type TaskState } from '../../../shared/taskTypes';

export interface TaskGroup {
  task: TaskRecord;
  /** Oldest first: shard 1 before shard 2. */
  children: TaskRecord[];
}

export interface ChildSummary {
  total: number;
  counts: Record<TaskState, number>;
  /** `host/worker` of each running child, in the children's order, without repeats. */
  runners: string[];
}

/**
 * Top-level tasks in the order given, each with its children. A child whose
 * parent is not in the list (older than the page the drawer loaded, say)
 * stays at the top level rather than disappearing.
 */
export function groupTasks(list: readonly TaskRecord[]): TaskGroup[] {
  const present = new Set(list.map((task) => task.id));
  const childrenOf = new Map<number, TaskRecord[]>();
  for (const task of list) {
    if (task.parentId === null || !present.has(task.parentId)) continue;
    const siblings = childrenOf.get(task.parentId) ?? [];
    siblings.push(task);
    childrenOf.set(task.parentId, siblings);
  }
  return list
    .filter((task) => task.parentId === null || !present.has(task.parentId))
    .map((task) => ({ task, children: [...(childrenOf.get(task.id) ?? [])].sort((a, b) => a.id - b.id) }));
}

export function summarizeChildren(children: readonly TaskRecord[]): ChildSummary {
  const counts = Object.fromEntries(TASK_STATES.map((state) => [state, 0])) as Record<TaskState, number>;
  const runners: string[] = [];
  for (const child of children) {
    counts[child.state] += 1;
    if (child.state === 'running' && child.owner) {
      const runner = `${child.owner.host}/${child.owner.worker}`;
      if (!runners.includes(runner)) runners.push(runner);
    }
  }
  return { total: children.length, counts, runners };
}

/** What a parent's children are called: a batch job's are shards, a study's are trials. */
export function childNoun(children: readonly TaskRecord[]): string {
  if (children.length > 0 && children.every((child) => child.kind === 'batch')) return 'shards';
  if (children.length > 0 && children.every((child) => child.kind === 'trial')) return 'trials';
  return 'tasks';
}

/** Running children's runners named one by one up to this many, then counted. */
const RUNNERS_NAMED = 3;

/**
 * One line for a collapsed group, e.g.
 * `shards: 12 done, 2 running on host-a/worker-1, host-b/worker-2, 186 queued`.
 * Only states that occur are named; failures come last so they stand out.
 */
export function describeChildren(children: readonly TaskRecord[]): string {
  const summary = summarizeChildren(children);
  const { counts } = summary;
  const parts: string[] = [];
  if (counts.completed) parts.push(`${counts.completed} done`);
  if (counts.running) {
    const named = summary.runners.slice(0, RUNNERS_NAMED);
    const more = summary.runners.length - named.length;
    const where = named.length ? ` on ${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}` : '';
    parts.push(`${counts.running} running${where}`);
  }
  if (counts.stopping) parts.push(`${counts.stopping} stopping`);
  if (counts.queued) parts.push(`${counts.queued} queued`);
  if (counts.cancelled) parts.push(`${counts.cancelled} stopped`);
  if (counts.crashed) parts.push(`${counts.crashed} crashed`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  return `${childNoun(children)}: ${parts.join(', ') || 'none'}`;
}

/**
 * A child's name under its parent: a shard repeats its job's title, so it is
 * called by its number (`Shard 3`, counted from 1) instead.
 */
export function childTitle(child: TaskRecord): string {
  const shard = child.params.shard;
  return child.kind === 'batch' && typeof shard === 'number' ? `Shard ${shard + 1}` : child.title;
}
