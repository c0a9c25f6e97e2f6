import type { LeftOutEntry } from '../core/archive/left-out.js';
import type { JobOutcome } from './job-outcome.js';

/** A backup that could not read some entries needs attention: they are named, with what to do. */
export function leftOutProblems(count: number, named: readonly LeftOutEntry[] | undefined): Omit<JobOutcome, 'result'> {
  if (count === 0) return {};
  return {
    problems: (named ?? []).map((e) => ({ path: e.path, message: e.reason })),
    problemCount: count,
    advice: { kind: 'left-out' },
  };
}
