import { readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../errors.js';

const CHUNK_NAME = /^[0-9a-f]{64}$/;

/**
 * The chunks in a remote's cache and their sizes on disk, least recently used first: what the cache bound is
 * kept by, read from the disk once per use of the cache and kept up to date by its inserts and removals.
 */
export class CacheLedger {
  /** Digest → bytes on disk, in the order of last use (a Map keeps insertion order). */
  private readonly entries = new Map<string, number>();
  bytes = 0;

  /**
   * The chunks in `chunksDir`, oldest mtime first (a chunk's mtime is its last use: inserts and reads from the
   * cache touch it). Empty prefix folders are removed on the way: a cache made with all 65,536 of them (before
   * they were made on demand) is read once the long way, and quickly from then on.
   */
  static scan(chunksDir: string): CacheLedger {
    const found: { hex: string; size: number; used: number }[] = [];
    for (const prefix of readdirSync(chunksDir)) {
      const dir = join(chunksDir, prefix);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (err) {
        if (errnoCode(err) === 'ENOTDIR' || errnoCode(err) === 'ENOENT') continue;
        throw err;
      }
      if (names.length === 0) {
        try {
          rmdirSync(dir);
        } catch {
          /* made again meanwhile, or not ours to remove: left */
        }
        continue;
      }
      for (const name of names) {
        if (!CHUNK_NAME.test(name)) continue;
        const st = statSync(join(dir, name), { throwIfNoEntry: false });
        if (st?.isFile()) found.push({ hex: name, size: st.size, used: st.mtimeMs });
      }
    }
    const ledger = new CacheLedger();
    for (const c of found.sort((a, b) => a.used - b.used)) ledger.add(c.hex, c.size);
    return ledger;
  }

  get count(): number {
    return this.entries.size;
  }

  has(hex: string): boolean {
    return this.entries.has(hex);
  }

  /** A chunk written (or found) now: the most recently used. */
  add(hex: string, size: number): void {
    this.remove(hex);
    this.entries.set(hex, size);
    this.bytes += size;
  }

  /** A chunk used now. */
  touch(hex: string): void {
    const size = this.entries.get(hex);
    if (size === undefined) return;
    this.entries.delete(hex);
    this.entries.set(hex, size);
  }

  remove(hex: string): void {
    const size = this.entries.get(hex);
    if (size === undefined) return;
    this.entries.delete(hex);
    this.bytes -= size;
  }

  /**
   * Removes the least recently used chunks that `may` lets go (through `evict`, which deletes the file) until
   * the cache holds at most `limit` bytes. A chunk `may` keeps counts as used now, so later calls pass over it
   * quickly. True when the cache is within `limit`.
   */
  evictTo(limit: number, may: (hex: string) => boolean, evict: (hex: string) => void): boolean {
    if (this.bytes <= limit) return true;
    const kept: string[] = [];
    for (const hex of this.entries.keys()) {
      if (this.bytes <= limit) break;
      if (may(hex)) {
        evict(hex);
        this.remove(hex);
      } else kept.push(hex);
    }
    for (const hex of kept) this.touch(hex);
    return this.bytes <= limit;
  }
}
