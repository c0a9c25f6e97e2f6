import { formatBytes, formatDuration, plural } from './format.js';
import type { JobResult } from './jobs.js';
import { keptExisting, replacedExisting } from './kept-existing.js';

type Result<K extends JobResult['kind']> = Extract<JobResult, { kind: K }>;

/** "were" or "was", for a count of snapshots. */
function were(n: number): string {
  return n === 1 ? 'was' : 'were';
}

/** A push's end: what was sent, what was there already (skipped), and the requests it took. */
export function describePush(r: Result<'push'>): string {
  const sent =
    r.pushed === 0
      ? `Nothing to send to ${r.remote}`
      : `Pushed ${plural(r.pushed, 'snapshot')} to ${r.remote} in ${formatDuration(r.elapsedMs / 1000)}: ` +
        `${formatBytes(r.bytes)}, ${plural(r.chunks - r.chunksFoundPresent, 'chunk')} uploaded`;
  const skipped = r.present > 0 ? `; ${plural(r.present, 'snapshot')} ${were(r.present)} there already (skipped)` : '';
  const older = r.olderSkipped
    ? `; ${plural(r.olderSkipped, 'snapshot')} older than the newest there left out (pruned there?)`
    : '';
  return `${sent}${skipped}${older}; ${plural(r.requests, 'request')}`;
}

/** A pull's end: what arrived, what the store had already (skipped), and the requests it took. */
export function describePull(r: Result<'pull'>): string {
  const got =
    r.pulled === 0
      ? `Nothing to pull from ${r.remote}`
      : `Pulled ${plural(r.pulled, 'snapshot')} from ${r.remote} in ${formatDuration(r.elapsedMs / 1000)}: ` +
        `${formatBytes(r.bytes)} downloaded, ${plural(r.chunks, 'chunk')} fetched and verified`;
  const skipped = r.present > 0 ? `; ${plural(r.present, 'snapshot')} ${were(r.present)} here already (skipped)` : '';
  return `${got}${skipped}; ${plural(r.requests, 'request')}`;
}

/** A restore read from a remote: as a local restore says it, and from where. */
export function describeRemoteRestore(r: Result<'remote-restore'>): string {
  const restored =
    r.files === 0
      ? `Nothing was restored from ${r.remote}`
      : `Restored ${plural(r.files, 'file')} (${formatBytes(r.bytes)}) from ${r.remote} to ${r.target}`;
  const kept = keptExisting(r.conflicts, r.keptSame, () => '');
  const failed = r.failed > 0 ? `; ${plural(r.failed, 'entry', 'entries')} could not be restored` : '';
  return `${restored}${replacedExisting(r.replaced)}${kept}${failed}; ${plural(r.requests, 'request')}`;
}

/** What a plan run's summary adds about its off-site copy. */
export function planOffsitePart(r: Result<'plan-run'>): string | undefined {
  if (r.offsite === 'deferred') return 'off-site copy waits (metered network)';
  if (r.offsite === 'pushed') return `${plural(r.pushed ?? 0, 'snapshot')} pushed off-site`;
  return undefined;
}
