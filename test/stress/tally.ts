/** What a stress run counts; every "bad" counter must end at 0. */
export interface Tally {
  rounds: number;
  kills: number;
  maxConcurrent: number;
  backups: number;
  gcRuns: number;
  badInputs: number;
  /** Restores whose target folder was swapped for a symlink while they ran. */
  swaps: number;
  snapshotsVerified: number;
  snapshotsRestored: number;
  /** Must stay 0. */
  lostChunks: number;
  verifyFailures: number;
  byteDifferences: number;
  writesOutside: number;
  hangs: number;
  unclearErrors: number;
}

export function newTally(): Tally {
  return {
    rounds: 0,
    kills: 0,
    maxConcurrent: 0,
    backups: 0,
    gcRuns: 0,
    badInputs: 0,
    swaps: 0,
    snapshotsVerified: 0,
    snapshotsRestored: 0,
    lostChunks: 0,
    verifyFailures: 0,
    byteDifferences: 0,
    writesOutside: 0,
    hangs: 0,
    unclearErrors: 0,
  };
}

export const BAD: readonly (keyof Tally)[] = [
  'lostChunks',
  'verifyFailures',
  'byteDifferences',
  'writesOutside',
  'hangs',
  'unclearErrors',
];

/** A line of the summary, and whether anything bad happened. */
export function summarize(name: string, t: Tally, seconds: number): { line: string; ok: boolean } {
  const ok = BAD.every((k) => t[k] === 0);
  const parts = Object.entries(t)
    .filter(([k, v]) => v !== 0 || BAD.includes(k as keyof Tally))
    .map(([k, v]) => `${k} ${v}`);
  return { line: `${ok ? 'ok    ' : 'FAILED'} ${name} (${seconds.toFixed(0)} s): ${parts.join(', ')}`, ok };
}
