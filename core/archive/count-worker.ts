// Worker thread of a folder backup without a base: walks the source once, keeping nothing, and posts the totals
// as they grow, so that the backup can show its progress against them while it already runs (restic's scanner).
import { parentPort, workerData } from 'node:worker_threads';
import { silentLogger } from '../log.js';
import { ExcludeRules } from './excludes.js';
import { FolderSources } from './multi-source.js';
import type { ScanTotals } from './source-scan.js';

export interface CountWorkerData {
  paths: string[];
  storeRoot: string;
  excludes: string[];
  /** When the backup began (ms since the epoch), as its own scan counts it. */
  startedAtMs: number;
}

export type CountWorkerMessage = { type: 'totals'; totals: ScanTotals; final: boolean } | { type: 'error' };

const { paths, storeRoot, excludes, startedAtMs } = workerData as CountWorkerData;
const post = (message: CountWorkerMessage): void => parentPort!.postMessage(message);

FolderSources.of(paths, storeRoot)
  .count({
    excludes: ExcludeRules.fromPatterns(excludes),
    log: silentLogger,
    startedAtMs,
    onProgress: (totals) => post({ type: 'totals', totals, final: false }),
  })
  .then(
    (totals) => post({ type: 'totals', totals, final: true }),
    // The backup's own walk says what went wrong; its progress then goes without totals.
    () => post({ type: 'error' }),
  );
