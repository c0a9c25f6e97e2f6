import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';

/**
 * Which thread of this process holds a lock, and whether it still does. The app's jobs run on worker threads
 * that share one pid, so "the pid is alive" cannot tell a live holder from one that ended without releasing
 * (its store vanished mid-job, so removing the lock failed): each lock record names its thread and a token,
 * a thread knows the tokens it holds, and the threads that have exited are marked in a table shared by every
 * thread of the process. A holder this process cannot judge (an older record, a thread of unknown fate) counts
 * as live: a lock kept too long is an error message, one broken too early can lose data.
 */

/** Thread ids (Node numbers them from 1, never reusing one) up to this many are tracked; later ones count as live. */
const TRACKED_THREADS = 1 << 16;

let goneThreads: Int32Array | undefined;
const heldTokens = new Set<string>();

export interface LockOwner {
  /** The holder's `worker_threads.threadId` (0 = a process's main thread). */
  thread: number;
  /** Unique per acquisition: the holding thread keeps it while it holds the lock. */
  token: string;
}

/** A new owner for a lock this thread is about to take; call `ownerReleased` when letting go (or failing to take it). */
export function newLockOwner(): LockOwner {
  const token = randomBytes(8).toString('hex');
  heldTokens.add(token);
  return { thread: threadId, token };
}

export function ownerReleased(owner: LockOwner): void {
  heldTokens.delete(owner.token);
}

/**
 * Whether a holder in this very process still holds its lock: this thread's own by its tokens, another thread's
 * unless that thread has exited.
 */
export function ownerInThisProcessIsLive(owner: Partial<LockOwner>): boolean {
  if (typeof owner.thread !== 'number' || typeof owner.token !== 'string') return true;
  if (owner.thread === threadId) return heldTokens.has(owner.token);
  return !threadHasExited(owner.thread);
}

/**
 * The table of exited threads, made on first use: a thread that starts workers passes it to each of them
 * (`useExitedThreadTable`) and marks each one that exits (`markThreadExited`).
 */
export function exitedThreadTable(): SharedArrayBuffer {
  goneThreads ??= new Int32Array(new SharedArrayBuffer(TRACKED_THREADS / 8));
  return goneThreads.buffer as SharedArrayBuffer;
}

/** Called first thing in a worker thread with the table its starter passed. */
export function useExitedThreadTable(table: SharedArrayBuffer): void {
  goneThreads = new Int32Array(table);
}

export function markThreadExited(id: number): void {
  if (id <= 0 || id >= TRACKED_THREADS) return;
  exitedThreadTable();
  Atomics.or(goneThreads!, id >> 5, 1 << (id & 31));
}

function threadHasExited(id: number): boolean {
  if (!goneThreads || id <= 0 || id >= TRACKED_THREADS) return false;
  return (Atomics.load(goneThreads, id >> 5) & (1 << (id & 31))) !== 0;
}
