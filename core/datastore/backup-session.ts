import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatBackupTime, groupPath, type BackupGroupRef, type SnapshotRef } from '../backup/backup-names.js';
import { MANIFEST_NAME } from '../backup/manifest.js';
import { anySignal } from '../jobs/cancel.js';
import type { Logger } from '../log.js';
import { acquireLease, type HeldLease } from '../locks/lease.js';
import { acquireExclusiveLock, type HeldLock } from '../locks/process-lock.js';
import { acquireSharedLock } from '../locks/shared-lock.js';

/** The resource name of a snapshot's shared/exclusive lock. */
export function snapshotLockName(ref: SnapshotRef): string {
  return `snap.${ref.type}.${ref.id}.${ref.time}`;
}

export function groupLockName(group: BackupGroupRef): string {
  return `group.${group.type}.${group.id}`;
}

/**
 * The locks one backup holds (docs/ARCHITECTURE.md, "Who takes what"): the group exclusively, so there is
 * one backup per group; a writer lease, taken before the first chunk is touched and dropped only after the
 * manifest is in place, whose start time keeps GC off this backup's chunks; and shared locks on its base
 * and on its own new snapshot, so neither can be forgotten or pruned while it runs.
 */
export class BackupSession {
  readonly signal: AbortSignal;
  private readonly held: (HeldLock | HeldLease)[] = [];
  private readonly lease: HeldLease;
  private readonly controller = new AbortController();

  constructor(
    private readonly root: string,
    readonly group: BackupGroupRef,
    readonly purpose: string,
    private readonly log?: Logger,
  ) {
    const groupLock = acquireExclusiveLock(root, groupLockName(group), purpose, log);
    this.held.push(groupLock);
    try {
      this.lease = acquireLease(root, 'writer', 'writer', purpose, log);
    } catch (err) {
      groupLock.release();
      throw err;
    }
    this.held.push(this.lease);
    this.signal = anySignal(groupLock.signal, this.lease.signal, this.controller.signal);
  }

  static start(
    root: string,
    group: BackupGroupRef,
    log?: Logger,
    purpose = `backup of ${groupPath(group)}`,
  ): BackupSession {
    return new BackupSession(root, group, purpose, log);
  }

  get startedAt(): string {
    return this.lease.info.startedAt;
  }

  /**
   * Holds a snapshot (the base, or the one being written) against forget and prune. Returns false if the
   * snapshot is no longer finished once held (forgotten meanwhile): a base must then not be used.
   */
  holdSnapshot(ref: SnapshotRef, requireFinished: boolean): boolean {
    const lock = acquireSharedLock(this.root, snapshotLockName(ref), this.purpose, this.log, 'reader');
    this.held.push(lock);
    this.signalFrom(lock);
    if (!requireFinished) return true;
    return existsSync(join(this.root, ref.type, ref.id, formatBackupTime(ref.time), MANIFEST_NAME));
  }

  /** Called right before the manifest is written: the lease still in place, no lock lost. */
  assertHeld(): void {
    this.lease.assertHeld();
    if (this.signal.aborted) throw this.signal.reason as Error;
  }

  release(): void {
    for (const lock of this.held.reverse()) lock.release();
    this.held.length = 0;
  }

  private signalFrom(lock: HeldLease): void {
    lock.signal.addEventListener('abort', () => this.controller.abort(lock.signal.reason), { once: true });
  }
}
