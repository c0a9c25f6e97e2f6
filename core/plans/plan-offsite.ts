import { KEEP_RULES } from '../../contract/keep-rules.js';
import type { Plan } from '../../contract/plans.js';
import type { Datastore } from '../datastore/datastore.js';
import type { Logger } from '../log.js';
import { Bucket } from '../remote/bucket.js';
import type { RemoteLookup } from '../remote/remote-book.js';
import { collectRemoteGarbage } from '../remote/remote-gc.js';
import { pushSnapshots, type PushProgress } from '../remote/push.js';
import { pruneRemoteGroup } from '../remote/remote-prune.js';

export interface OffsiteOutcome {
  outcome: 'pushed' | 'deferred';
  pushed: number;
  remotePruned: number;
}

/**
 * A plan's off-site copy after its backup and retention: every finished snapshot of its group that the remote
 * lacks (a push that failed or waited last time is caught up), then the remote's own retention. On a metered
 * network, with the plan's condition, it waits for the next run instead.
 */
export async function pushPlanOffsite(
  store: Datastore,
  plan: Plan,
  options: {
    remotes: RemoteLookup;
    signal?: AbortSignal;
    log: Logger;
    metered?: () => boolean;
    onProgress?: (progress: PushProgress, requests: number) => void;
  },
): Promise<OffsiteOutcome | undefined> {
  const offsite = plan.offsite;
  if (!offsite) return undefined;
  if (plan.conditions.skipPushOnMetered && options.metered?.()) {
    options.log.info(`the network is metered: the off-site copy to ${offsite.remote} waits for the next run`);
    return { outcome: 'deferred', pushed: 0, remotePruned: 0 };
  }
  const bucket = new Bucket(options.remotes.get(offsite.remote), options.remotes.credentials(offsite.remote));
  try {
    const group = { type: 'host' as const, id: plan.groupId };
    const refs = store.listSnapshots(group).filter((s) => s.finished);
    const result = await pushSnapshots(store, bucket, refs, {
      signal: options.signal,
      log: options.log,
      onProgress: options.onProgress && ((p) => options.onProgress!(p, bucket.requests)),
    });
    if (result.olderSkipped.length > 0)
      options.log.info(
        `${result.olderSkipped.length} older snapshot(s) left out of the off-site copy: ${bucket.name} holds newer ` +
          `ones of the group (its retention may have removed them)`,
      );
    let remotePruned = 0;
    if (KEEP_RULES.some(({ option }) => (offsite.retention[option] ?? 0) > 0)) {
      const outcomes = await pruneRemoteGroup(bucket, group, offsite.retention, { signal: options.signal });
      remotePruned = outcomes.filter((o) => o.outcome === 'removed').length;
    }
    return { outcome: 'pushed', pushed: result.pushed.length, remotePruned };
  } finally {
    bucket.close();
  }
}

/** The remote's GC, when the plan's GC is due: what the remote's retention removed is freed there too. */
export async function collectPlanOffsite(
  plan: Plan,
  options: { remotes: RemoteLookup; signal?: AbortSignal; log: Logger },
): Promise<void> {
  if (!plan.offsite) return;
  const bucket = new Bucket(options.remotes.get(plan.offsite.remote), options.remotes.credentials(plan.offsite.remote));
  try {
    const result = await collectRemoteGarbage(bucket, { signal: options.signal, log: options.log });
    options.log.info(
      `remote GC of ${bucket.name}: ${result.outcome}, ${result.chunksRemoved} chunks removed, ${result.requests} requests`,
    );
  } finally {
    bucket.close();
  }
}
