import { randomBytes } from 'node:crypto';
import { readdirSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CairnError, errnoCode } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { makeDirectories } from '../fs/make-directories.js';
import type { Logger } from '../log.js';
import { storeClock } from '../fs/store-clock.js';
import { newLockOwner, ownerReleased } from './lock-owner.js';
import { LeaseRecord, readLockRecord } from './lock-record.js';
import {
  describeHolder,
  holderIsLive,
  lockfileOptions,
  LOCKS_DIR,
  ownHolder,
  type LockHolder,
} from './process-lock.js';

/** Leases live apart from the exclusive locks: `.locks/leases/<resource>@<lease id>` (+ `.lock` dir, `.json` meta). */
export const LEASES_DIR = 'leases';

export type LeaseKind = 'writer' | 'reader';

export interface LeaseInfo extends LockHolder {
  /** What the lease is on: `writer` for chunk writers, `snap.<type>.<id>.<epoch>` for a snapshot. */
  resource: string;
  kind: LeaseKind;
  id: string;
  /**
   * When the lease was taken by the store's clock: the stamp its record got when it was written (not part of
   * the record). Undefined for a lease whose record is not written yet.
   */
  registeredAtMs?: number;
}

export interface HeldLease {
  readonly info: LeaseInfo;
  /** Aborted if the lease is lost (its lock vanished or went stale, e.g. after the process was suspended). */
  readonly signal: AbortSignal;
  /**
   * Throws unless the lease is still in place: called right before a writer publishes its manifest, so a
   * writer that was frozen until its lease was judged dead never publishes a snapshot whose chunks a GC may
   * have swept meanwhile.
   */
  assertHeld(): void;
  release(): void;
}

function leasesDir(storeRoot: string): string {
  return join(storeRoot, LOCKS_DIR, LEASES_DIR);
}

/**
 * Takes a lease: a proper-lockfile lock on a file of its own (so any number of holders, in any process),
 * plus a JSON record of who holds it. The lock directory is made first and the record second, and the
 * record goes first on release: a record without a lock is always a leftover.
 */
export function acquireLease(
  storeRoot: string,
  resource: string,
  kind: LeaseKind,
  purpose: string,
  log?: Logger,
): HeldLease {
  const dir = leasesDir(storeRoot);
  makeDirectories(dir);
  const id = `${safeHost()}-${process.pid}-${randomBytes(6).toString('hex')}`;
  const target = join(dir, `${resource}@${id}`);
  const owner = newLockOwner();
  const info: LeaseInfo = { resource, kind, id, ...ownHolder(purpose, owner) };
  const controller = new AbortController();
  let release: () => void;
  try {
    release = lockfile.lockSync(
      target,
      lockfileOptions(storeClock(storeRoot), `the lease of ${purpose}`, log, controller),
    );
  } catch (err) {
    ownerReleased(owner);
    throw new CairnError('IO', `cannot take a lease in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    writeFileAtomicSync(`${target}.json`, JSON.stringify(info));
  } catch (err) {
    ownerReleased(owner);
    try {
      release();
    } catch {
      /* gone */
    }
    throw err;
  }
  let released = false;
  return {
    info,
    signal: controller.signal,
    assertHeld() {
      if (controller.signal.aborted) throw controller.signal.reason as Error;
      // Whoever judges a lease dead removes it on the spot (listLiveLeases), before acting on that judgement:
      // so if ours is still in place, nobody has counted us out.
      const lockThere = statSync(`${target}.lock`, { throwIfNoEntry: false }) !== undefined;
      if (!lockThere || readLease(`${target}.json`)?.id !== id) {
        throw new CairnError(
          'LOCKED',
          `the lease of ${purpose} was lost (the process was stalled for too long); run it again`,
        );
      }
    },
    release() {
      if (released) return;
      released = true;
      ownerReleased(owner);
      try {
        unlinkSync(`${target}.json`);
      } catch {
        /* already gone */
      }
      try {
        release();
      } catch {
        /* compromised or already removed */
      }
    },
  };
}

function readLease(path: string): LeaseInfo | undefined {
  const info = readLockRecord(path, LeaseRecord);
  if (!info) return undefined;
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? { ...info, registeredAtMs: st.mtimeMs } : info;
}

/**
 * The live leases (of one resource, or all). A lease is live while its holder's process still runs on this
 * host (a suspended process keeps its claims), or while a holder elsewhere refreshes its lock (judged by the
 * store's clock). Dead ones are removed, with a log line, so that a holder that comes back finds its lease
 * gone and aborts.
 */
export function listLiveLeases(storeRoot: string, resource?: string, log?: Logger): LeaseInfo[] {
  const dir = leasesDir(storeRoot);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw new CairnError('IO', `cannot list leases in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const prefix = resource === undefined ? undefined : `${resource}@`;
  const targets = new Set<string>();
  for (const name of names) {
    if (prefix && !name.startsWith(prefix)) continue;
    const m = /^(.+@[^@]+?)\.(json|lock)$/.exec(name);
    if (m) targets.add(m[1]!);
  }
  const clock = storeClock(storeRoot);
  const live: LeaseInfo[] = [];
  for (const base of targets) {
    const target = join(dir, base);
    const lockDir = `${target}.lock`;
    // A lock without its record yet: the holder is known by the pid in the lease id.
    const record = readLease(`${target}.json`);
    const info = record ?? placeholderLease(base);
    // On this host the process table is the truth: a dead pid's lease is dead at once, a live one's is live
    // even when its refresh lags (a suspended or stalled process keeps its claims). A record without its lock
    // is a leftover of a release.
    const hasLock = statSync(lockDir, { throwIfNoEntry: false }) !== undefined;
    if (hasLock && holderIsLive(info, lockDir, clock)) live.push(info);
    else removeDeadLease(target, info, log);
  }
  return live;
}

function safeHost(): string {
  return hostname().replace(/[^A-Za-z0-9_.]/g, '_');
}

/** What a lease id (`<host>-<pid>-<random>`) tells of a holder whose record is not written (yet). */
function placeholderLease(base: string): LeaseInfo {
  const at = base.lastIndexOf('@');
  const id = base.slice(at + 1);
  const m = /^(.*)-(\d+)-[0-9a-f]+$/.exec(id);
  const host = m?.[1] === safeHost() ? hostname() : (m?.[1] ?? '?');
  return {
    resource: base.slice(0, at),
    kind: 'writer',
    id,
    pid: Number(m?.[2] ?? 0),
    host,
    purpose: 'a job that is just starting',
    startedAt: new Date().toISOString(),
  };
}

function removeDeadLease(target: string, info: LeaseInfo | undefined, log?: Logger): void {
  const hasLock = statSync(`${target}.lock`, { throwIfNoEntry: false }) !== undefined;
  if (!info && !hasLock) return;
  if (info) log?.warn(`removed the stale lease of ${describeHolder(info)}: that process is gone`);
  try {
    rmdirSync(`${target}.lock`);
  } catch {
    /* gone already */
  }
  try {
    unlinkSync(`${target}.json`);
  } catch {
    /* gone already */
  }
}
