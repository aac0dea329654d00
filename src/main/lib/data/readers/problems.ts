/**
 * Collects data problems while a dataset is read: every one is counted, the
 * first few of each kind are kept as examples, so a dataset with 100k
 * duplicate captions still yields a small report.
 */
import type { DatasetProblem, ProblemKind, ProblemReport } from './types';

export const MAX_EXAMPLES_PER_KIND = 20;

export class ProblemLog {
  private readonly counts = new Map<ProblemKind, number>();
  private readonly examples: DatasetProblem[] = [];

  add(problem: DatasetProblem): void {
    const count = (this.counts.get(problem.kind) ?? 0) + 1;
    this.counts.set(problem.kind, count);
    if (count <= MAX_EXAMPLES_PER_KIND) this.examples.push(problem);
  }

  count(kind?: ProblemKind): number {
    if (kind) return this.counts.get(kind) ?? 0;
    let total = 0;
    for (const n of this.counts.values()) total += n;
    return total;
  }

  report(): ProblemReport {
    return { counts: Object.fromEntries(this.counts), examples: [...this.examples] };
  }
}
