import type { JobState } from './jobs.js';

/**
 * The fraction done of a job, from bytes where it has them, else from its counter; undefined while unknown. A GC
 * counts its mark phase as the first half and its sweep as the second. The job card and the tray both show it.
 */
export function jobFraction(job: JobState): number | undefined {
  const p = job.progress;
  if (job.status === 'done') return 1;
  if (p.prefixesTotal !== undefined)
    return p.phase === 'sweep'
      ? 0.5 + (0.5 * (p.prefixesDone ?? 0)) / p.prefixesTotal
      : 0.5 * phaseFraction(p.indexFilesDone, p.indexFilesTotal);
  if (p.bytesTotal) return Math.min(1, (p.bytesDone ?? 0) / p.bytesTotal);
  if (p.total) return Math.min(1, (p.done ?? 0) / p.total);
  return undefined;
}

export function phaseFraction(done: number | undefined, total: number | undefined): number {
  return total ? Math.min(1, (done ?? 0) / total) : 0;
}
