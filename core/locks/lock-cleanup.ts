import { readdirSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { LEASES_DIR, listLiveLeases } from './lease.js';
import { ownerInThisProcessIsLive } from './lock-owner.js';
import { LockHolderRecord, readLockRecord } from './lock-record.js';
import { acquireExclusiveLock, exclusiveLockHolder, LOCKS_DIR, processIsAlive } from './process-lock.js';

const PENDING_HOLDER = /^(.+)\.holder\.(\d+)-[0-9a-f]+\.json$/;

/**
 * Removes what processes that were killed left in `.locks`: their leases (a killed restore's hold on a snapshot),
 * their exclusive locks (a killed forget's), and holder files of attempts they never finished. A lock whose
 * holder is alive, or on another computer and refreshed, is left alone. GC runs this at its start.
 */
export function removeDeadLocks(storeRoot: string, log?: Logger): { leases: number; locks: number } {
  const dir = join(storeRoot, LOCKS_DIR);
  const before = countLeases(join(dir, LEASES_DIR));
  listLiveLeases(storeRoot, undefined, log); // removes the dead ones as it goes
  const leases = Math.max(0, before - countLeases(join(dir, LEASES_DIR)));
  let locks = 0;
  for (const name of names(dir)) {
    const lockName = name.endsWith('.lock') ? name.slice(0, -'.lock'.length) : undefined;
    if (lockName && !exclusiveLockHolder(storeRoot, lockName)) {
      // Taken over (which removes the dead holder's lock and records) and let go at once.
      try {
        acquireExclusiveLock(storeRoot, lockName, 'cleanup of a lock a stopped process left', log).release();
        locks++;
      } catch {
        /* taken by a live process meanwhile */
      }
      continue;
    }
    const pending = PENDING_HOLDER.exec(name);
    if (pending && !names(dir).includes(`${pending[1]}.lock`) && isDeadHere(join(dir, name), Number(pending[2]))) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        /* gone */
      }
    }
  }
  return { leases, locks };
}

/** A holder record of a process or thread on this computer that is gone (another computer's are its own to clean). */
function isDeadHere(path: string, pid: number): boolean {
  const holder = readLockRecord(path, LockHolderRecord);
  if (holder?.host !== hostname()) return false;
  return pid === process.pid ? !ownerInThisProcessIsLive(holder) : !processIsAlive(pid, holder.pstart);
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function countLeases(dir: string): number {
  return names(dir).filter((n) => n.endsWith('.lock') || n.endsWith('.json')).length;
}
