import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { CairnError, errnoCode, isCairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { makeDirectories } from '../fs/make-directories.js';
import { storeClock, type StoreClock } from '../fs/store-clock.js';
import { LOCK_STALE_MS, LOCK_UPDATE_MS, lockIsFresh, PROPER_LOCKFILE_NEVER_STALE, storeTimeFs } from './lock-clock.js';
import type { Logger } from '../log.js';
import { LockHolderRecord, readLockRecord, TakeoverClaim } from './lock-record.js';
import { newLockOwner, ownerInThisProcessIsLive, ownerReleased, type LockOwner } from './lock-owner.js';
import { OWN_START_TIME, processIsAlive } from './process-start.js';

export { LOCK_STALE_MS, LOCK_UPDATE_MS } from './lock-clock.js';
/** Locks live in the store, hidden so the GC's index walk skips them. */
export const LOCKS_DIR = '.locks';

export interface LockHolder extends Partial<LockOwner> {
  pid: number;
  /** The process's start time (process-start.ts): a later process with the same pid is not the holder. */
  pstart?: number;
  host: string;
  /** What holds it: "backup of host/docs", "garbage collection", … */
  purpose: string;
  startedAt: string;
}

export interface HeldLock {
  readonly holder: LockHolder;
  /** Aborted if the lock is lost (its directory vanished or went stale, e.g. after a long sleep). */
  readonly signal: AbortSignal;
  release(): void;
}

export function describeHolder(h: LockHolder): string {
  const time = new Date(h.startedAt);
  const at = Number.isNaN(time.getTime()) ? h.startedAt : time.toLocaleString();
  return `${h.purpose} started ${at} by pid ${h.pid}${h.host !== hostname() ? ` on ${h.host}` : ''}`;
}

function readHolder(path: string): LockHolder | undefined {
  return readLockRecord(path, LockHolderRecord);
}

export { processIsAlive } from './process-start.js';

/**
 * An exclusive lock between processes (proper-lockfile's mkdir lock, kept fresh by a timer). A holder that
 * crashed is recognised and its lock taken over with a log line: at once when it ran on this host and its pid
 * is gone; a holder on another computer once its refresh is 10 s old by the store's clock. A live holder on
 * this computer keeps its lock however long it is stopped; the error names it.
 */
export function acquireExclusiveLock(
  storeRoot: string,
  name: string,
  purpose: string,
  log?: Logger,
  options: { waitMs?: number } = {},
): HeldLock {
  const deadline = Date.now() + (options.waitMs ?? 0);
  for (;;) {
    try {
      return tryExclusiveLock(storeRoot, name, purpose, log);
    } catch (err) {
      if (!isCairnError(err, 'LOCKED') || Date.now() >= deadline) throw err;
      sleepSync(20);
    }
  }
}

/** Blocks the thread briefly: only for the short waits on a gate lock, which are held for microseconds. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** One attempt: the lock at once, a crashed holder's taken over (`takingOver` is the retry after that), or LOCKED. */
function tryExclusiveLock(
  storeRoot: string,
  name: string,
  purpose: string,
  log?: Logger,
  takingOver = false,
): HeldLock {
  const dir = join(storeRoot, LOCKS_DIR);
  makeDirectories(dir);
  const target = join(dir, name);
  const holderPath = `${target}.holder.json`;
  const previous = readHolder(holderPath);
  const controller = new AbortController();
  const clock = storeClock(storeRoot);
  // Who we are goes to a file of our own before the lock is taken and is renamed into place after: a
  // process killed in between is still known by its pid, so its lock can be taken over at once.
  const owner = newLockOwner();
  const holder = ownHolder(purpose, owner);
  const ownPath = writeOwnRecord(target, holder, owner);
  let release: () => void;
  try {
    release = lockfile.lockSync(target, lockfileOptions(clock, `the lock for ${purpose}`, log, controller));
  } catch (err) {
    ownerReleased(owner);
    removeQuietly(ownPath);
    if (errnoCode(err) !== 'ELOCKED')
      throw new CairnError('IO', `cannot lock ${target}: ${(err as Error).message}`, { cause: err });
    const taken = takingOver
      ? undefined
      : takeOverFromDeadHolders(dir, name, clock, log, () => tryExclusiveLock(storeRoot, name, purpose, log, true));
    if (taken) return taken;
    throw busy(dir, name, purpose);
  }
  if (previous && previous.pid !== process.pid) {
    log?.info(`took over a stale lock left by ${describeHolder(previous)}`);
  }
  try {
    renameSync(ownPath, holderPath);
  } catch (err) {
    ownerReleased(owner);
    try {
      release();
    } catch {
      /* gone */
    }
    throw new CairnError('IO', `cannot record the holder of ${target}: ${(err as Error).message}`, { cause: err });
  }
  return heldLock(holder, holderPath, owner, controller.signal, release);
}

/** This thread as the holder of a lock or lease it is taking. */
export function ownHolder(purpose: string, owner: LockOwner): LockHolder {
  return {
    pid: process.pid,
    pstart: OWN_START_TIME,
    host: hostname(),
    purpose,
    startedAt: new Date().toISOString(),
    ...owner,
  };
}

/**
 * proper-lockfile's options for a lock or a lease: refreshed in the store's time and never judged stale by
 * proper-lockfile (Cairn decides when a holder is gone); losing it (`what`) is logged and aborts `controller`.
 */
export function lockfileOptions(
  clock: StoreClock,
  what: string,
  log: Logger | undefined,
  controller: AbortController,
): Parameters<typeof lockfile.lockSync>[1] {
  return {
    realpath: false,
    stale: PROPER_LOCKFILE_NEVER_STALE,
    update: LOCK_UPDATE_MS,
    fs: storeTimeFs(clock),
    onCompromised: (err: Error) => {
      log?.warn(`lost ${what}: ${err.message}`);
      controller.abort(new CairnError('LOCKED', `lost ${what}: ${err.message}`));
    },
  };
}

/** The record of one attempt, at a name unique to it (the app's job threads share one pid); its path. */
function writeOwnRecord(target: string, holder: LockHolder, owner: LockOwner): string {
  const ownPath = `${target}.holder.${process.pid}-${randomBytes(6).toString('hex')}.json`;
  try {
    writeFileAtomicSync(ownPath, JSON.stringify(holder));
  } catch (err) {
    ownerReleased(owner);
    throw err;
  }
  return ownPath;
}

/** LOCKED, naming the recorded holder (or one that is taking the lock). */
function busy(dir: string, name: string, purpose: string): CairnError {
  const holders = knownHolders(dir, name);
  const shown = holders.find((h) => h.path === join(dir, `${name}.holder.json`))?.holder ?? holders[0]?.holder;
  return new CairnError(
    'LOCKED',
    shown ? `busy: ${describeHolder(shown)}` : `busy: ${purpose} is locked by another process`,
  );
}

function heldLock(
  holder: LockHolder,
  holderPath: string,
  owner: LockOwner,
  signal: AbortSignal,
  release: () => void,
): HeldLock {
  let released = false;
  return {
    holder,
    signal,
    release() {
      if (released) return;
      released = true;
      // The record steps aside to a name of this attempt before the lock goes and is removed after it, while
      // this thread still counts as its holder: a process killed in between still names itself beside its lock,
      // which is then taken over at once (a lock that names nobody could not be). Only our own record: if the
      // lock was lost meanwhile, the file may name its new holder.
      try {
        const recorded = readHolder(holderPath);
        const aside = recorded?.token === holder.token ? stepAside(holderPath) : undefined;
        try {
          release();
        } catch {
          // Compromised or already removed: nothing left to release.
        }
        if (aside) removeQuietly(aside);
      } finally {
        // Whatever happened (the store may be gone), this thread no longer holds it: a lock left on disk is then
        // a leftover that the next taker may remove.
        ownerReleased(owner);
      }
    },
  };
}

/** Renames a holder record to a pending attempt's name of this process (`<name>.holder.<pid>-<random>.json`). */
function stepAside(holderPath: string): string | undefined {
  const aside = `${holderPath.slice(0, -'json'.length)}${process.pid}-${randomBytes(6).toString('hex')}.json`;
  try {
    renameSync(holderPath, aside);
    return aside;
  } catch {
    return undefined; // gone: nothing to remove
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}

/**
 * Takes over a lock whose every known holder is a process on this host that is gone. Takers go one at a time
 * (a `.takeover` file), and the lock is retaken before the next taker may look: otherwise a second taker,
 * still seeing the dead holder, would remove the first one's fresh lock and both would hold it.
 */
function takeOverFromDeadHolders(
  dir: string,
  name: string,
  clock: StoreClock,
  log: Logger | undefined,
  relock: () => HeldLock,
): HeldLock | undefined {
  const target = join(dir, name);
  const takeover = `${target}.takeover`;
  if (!claimTakeover(takeover, clock)) return undefined;
  try {
    const holders = deadHoldersOnly(dir, name, clock);
    if (holders === 'released') return relock();
    if (!holders) return undefined;
    const first = holders[0]?.holder;
    const elsewhere = first?.host !== hostname();
    log?.warn(
      `taking over the lock ${first ? `of ${describeHolder(first)}` : `${name}, which names no holder`}: ${elsewhere ? 'it has not been refreshed for 10 s' : 'that process is gone'}`,
    );
    try {
      rmdirSync(`${target}.lock`);
    } catch {
      /* already gone */
    }
    for (const { path } of holders) if (path !== `${target}.holder.json`) removeQuietly(path);
    return relock();
  } catch (err) {
    if (isCairnError(err, 'LOCKED')) return undefined; // someone else took it first, fairly
    throw err;
  } finally {
    removeQuietly(takeover);
  }
}

/**
 * The known holders if every one is gone ('released' if the lock went meanwhile), else undefined: a process on this host whose pid is gone, or one on
 * another computer whose lock has not been refreshed for 10 s. A live process's own holder file may be a
 * taker that failed and is about to remove it: such files are waited out briefly, the recorded holder's is not.
 * A lock that names no holder at all (left by an older Cairn) is gone once its refresh is 10 s old: every
 * live holder refreshes its lock.
 */
function deadHoldersOnly(
  dir: string,
  name: string,
  clock: StoreClock,
): { holder: LockHolder; path: string }[] | 'released' | undefined {
  const recorded = join(dir, `${name}.holder.json`);
  const lockDir = join(dir, `${name}.lock`);
  for (let attempt = 0; ; attempt++) {
    const holders = knownHolders(dir, name);
    const live = holders.filter(({ holder }) => holderIsLive(holder, lockDir, clock));
    if (holders.length > 0 && live.length === 0) return holders;
    // Nobody named: let go meanwhile (a new taker names itself before it locks), or a leftover once stale.
    if (holders.length === 0) {
      if (!existsSync(lockDir)) return 'released';
      return lockIsFresh(lockDir, clock) ? undefined : [];
    }
    if (live.some((h) => h.path === recorded) || attempt >= 10) return undefined;
    sleepSync(20);
  }
}

/**
 * A lock's holder is live while its process runs (on this host; in this process, while its thread holds it) or
 * while its lock is refreshed (elsewhere).
 */
export function holderIsLive(holder: LockHolder, lockDir: string, clock: StoreClock): boolean {
  if (holder.host !== hostname()) return lockIsFresh(lockDir, clock);
  return holder.pid === process.pid ? ownerInThisProcessIsLive(holder) : processIsAlive(holder.pid, holder.pstart);
}

/** Claims the right to take over a lock; false if a live process is doing it. A dead claimant's claim is removed. */
function claimTakeover(path: string, clock: StoreClock): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, pstart: OWN_START_TIME, host: hostname() }), {
        flag: 'wx',
      });
      return true;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST')
        throw new CairnError('IO', `cannot claim ${path}: ${(err as Error).message}`, { cause: err });
    }
    const claimant = readLockRecord(path, TakeoverClaim);
    const age = clock.now() - (statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0);
    const dead = claimant
      ? claimant.host === hostname() && claimant.pid !== process.pid && !processIsAlive(claimant.pid, claimant.pstart)
      : age > LOCK_STALE_MS;
    if (!dead && age <= LOCK_STALE_MS) return false;
    removeQuietly(path);
  }
  return false;
}

/** The lock's recorded holder and the holders that were taking it (their own file not yet renamed into place). */
function knownHolders(dir: string, name: string): { holder: LockHolder; path: string }[] {
  const out: { holder: LockHolder; path: string }[] = [];
  const prefix = `${name}.holder.`;
  for (const file of readdirSync(dir)) {
    if (!file.startsWith(prefix) || !/^(json|\d+(-[0-9a-f]+)?\.json)$/.test(file.slice(prefix.length))) continue;
    const path = join(dir, file);
    const holder = readHolder(path);
    if (holder) out.push({ holder, path });
  }
  return out;
}

/** Who holds an exclusive lock, if anyone live does (a crashed holder's lock counts as free). */
export function exclusiveLockHolder(storeRoot: string, name: string): LockHolder | undefined {
  const target = join(storeRoot, LOCKS_DIR, name);
  const lockDir = `${target}.lock`;
  if (!existsSync(lockDir)) return undefined;
  const clock = storeClock(storeRoot);
  const holder = readHolder(`${target}.holder.json`);
  if (holder) return holderIsLive(holder, lockDir, clock) ? holder : undefined;
  // No recorded holder: one taking the lock or letting it go names itself in a record of its own.
  const attempts = knownHolders(join(storeRoot, LOCKS_DIR), name);
  if (attempts.length > 0) return attempts.find((h) => holderIsLive(h.holder, lockDir, clock))?.holder;
  // A lock that names nobody (an older Cairn's holder died letting go): busy until its refresh is 10 s old.
  return lockIsFresh(lockDir, clock)
    ? { pid: 0, host: '?', purpose: `${name} (starting)`, startedAt: new Date().toISOString() }
    : undefined;
}
