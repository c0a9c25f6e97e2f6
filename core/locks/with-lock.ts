/** What is let go with release(): an exclusive lock, a lease, a shared or resource lock. */
export interface Releasable {
  release(): void;
}

/** Runs `run` while `lock` is held and releases it afterwards, also when `run` throws. */
export function withLock<L extends Releasable, T>(lock: L, run: (lock: L) => T): T {
  try {
    return run(lock);
  } finally {
    lock.release();
  }
}

/** withLock for asynchronous work: the lock is released once the promise settles. */
export async function withLockAsync<L extends Releasable, T>(lock: L, run: (lock: L) => Promise<T>): Promise<T> {
  try {
    return await run(lock);
  } finally {
    lock.release();
  }
}
