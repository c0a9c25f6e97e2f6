import type { Logger } from '../log.js';
import { acquireLease, listLiveLeases, type HeldLease, type LeaseKind } from './lease.js';
import { acquireExclusiveLock, describeHolder, exclusiveLockHolder, type HeldLock } from './process-lock.js';
import { CairnError } from '../errors.js';
import { withLock } from './with-lock.js';

/** How long a taker waits for the gate, which is only ever held for a few file operations. */
const GATE_WAIT_MS = 3_000;

/**
 * Reader-writer locks between processes, built from proper-lockfile's exclusive locks and leases (guide 5.3):
 * a short `gate` lock orders takers; an exclusive holder owns `<resource>.excl`; shared holders each own a
 * lease. Both kinds are non-blocking, as PBS's snapshot locks are: a busy resource is an error naming who holds it.
 */
export function acquireSharedLock(
  storeRoot: string,
  resource: string,
  purpose: string,
  log?: Logger,
  kind: LeaseKind = 'reader',
): HeldLease {
  return withGate(storeRoot, resource, purpose, log, () => {
    const holder = exclusiveLockHolder(storeRoot, `${resource}.excl`);
    if (holder) throw new CairnError('LOCKED', `busy: ${describeHolder(holder)}`);
    return acquireLease(storeRoot, resource, kind, purpose, log);
  });
}

export function acquireExclusiveResourceLock(
  storeRoot: string,
  resource: string,
  purpose: string,
  log?: Logger,
): HeldLock {
  return withGate(storeRoot, resource, purpose, log, () => {
    const lock = acquireExclusiveLock(storeRoot, `${resource}.excl`, purpose, log);
    const readers = listLiveLeases(storeRoot, resource, log);
    if (readers.length > 0) {
      lock.release();
      throw new CairnError(
        'LOCKED',
        `busy: ${describeHolder(readers[0]!)}${readers.length > 1 ? ` (and ${readers.length - 1} more)` : ''}`,
      );
    }
    return lock;
  });
}

/** Takers of a resource go one at a time: each holds its `gate` lock while it looks and takes. */
function withGate<T>(storeRoot: string, resource: string, purpose: string, log: Logger | undefined, take: () => T): T {
  const gate = acquireExclusiveLock(storeRoot, `${resource}.gate`, `${purpose} (taking the lock)`, log, {
    waitMs: GATE_WAIT_MS,
  });
  return withLock(gate, take);
}
