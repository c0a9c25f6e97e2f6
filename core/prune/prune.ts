import { groupPath, snapshotPath, type BackupGroupRef } from '../backup/backup-names.js';
import type { Datastore, SnapshotInfo } from '../datastore/datastore.js';
import { isCairnError } from '../errors.js';
import type { Logger } from '../log.js';
import { forgetSnapshot } from './forget.js';
import { computePrune, validateKeepOptions, type KeepOptions, type PruneDecision } from './prune-selection.js';

export interface PruneOutcome extends PruneDecision<SnapshotInfo> {
  /** What happened: for a dry run 'would-remove'; a snapshot that could not be removed says why in `error`. */
  outcome: 'kept' | 'removed' | 'would-remove' | 'failed';
  error?: string;
}

/**
 * Prunes one group by the keep rules (spec 8): a dry run returns the decision for every snapshot and its
 * reason (the UI's simulator); a real run forgets the snapshots to remove, oldest first. A snapshot that a
 * running backup or restore holds cannot be taken: it is reported and skipped, and the prune goes on.
 */
export function pruneGroup(
  store: Datastore,
  group: BackupGroupRef,
  keep: KeepOptions,
  options: { dryRun?: boolean; log?: Logger } = {},
): PruneOutcome[] {
  validateKeepOptions(keep);
  const decisions = computePrune(store.listSnapshots(group), keep, store.chunks.clock.now() / 1000);
  const outcomes: PruneOutcome[] = decisions.map((d) => ({
    ...d,
    outcome: d.mark === 'remove' ? (options.dryRun ? 'would-remove' : 'removed') : 'kept',
  }));
  if (options.dryRun) return outcomes;
  for (const outcome of [...outcomes].reverse()) {
    if (outcome.mark !== 'remove') continue;
    try {
      forgetSnapshot(store, outcome.snapshot);
      options.log?.info(`removed ${snapshotPath(outcome.snapshot)} (${outcome.reason})`);
    } catch (err) {
      if (isCairnError(err, 'NOT_FOUND')) continue;
      outcome.outcome = 'failed';
      outcome.error = (err as Error).message;
      options.log?.warn(`could not remove ${snapshotPath(outcome.snapshot)} of ${groupPath(group)}: ${outcome.error}`);
    }
  }
  return outcomes;
}
