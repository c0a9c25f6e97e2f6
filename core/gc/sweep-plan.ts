import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { PREFIX_DIR_COUNT, prefixDirName } from '../chunk-store/chunk-store.js';
import type { EmptyPrefixes } from '../chunk-store/empty-prefixes.js';
import { ioError } from '../errors.js';

/** What the sweep does with one prefix folder: list it, skip it (stayed empty), or not enter it. */
export type PrefixVerdict = 'sweep' | 'skip' | 'absent' | 'refused';

/**
 * Which of the 65,536 prefix folders the sweep enters: real folders only (a prefix that is a symlink, planted
 * or from a damaged store, is refused and nothing behind it is deleted), and of those not the ones the last
 * GC's record says stayed empty. Without a record, one listing of `.chunks` tells the real folders; with one,
 * a lstat of each folder tells both, and the big listing is not needed.
 */
export abstract class SweepPlan {
  abstract verdict(prefix: number): PrefixVerdict;

  static open(chunksDir: string, record: EmptyPrefixes | undefined, marginMs: number): SweepPlan {
    return record ? new RecordedPlan(chunksDir, record, marginMs) : new ListedPlan(chunksDir);
  }
}

class ListedPlan extends SweepPlan {
  private readonly kinds = new Uint8Array(PREFIX_DIR_COUNT);

  constructor(chunksDir: string) {
    super();
    let entries: Dirent[];
    try {
      entries = readdirSync(chunksDir, { withFileTypes: true });
    } catch (err) {
      throw ioError('list', chunksDir, err);
    }
    for (const entry of entries) {
      if (!/^[0-9a-f]{4}$/.test(entry.name)) continue;
      const prefix = Number.parseInt(entry.name, 16);
      if (entry.isDirectory()) this.kinds[prefix] = 1;
      else if (entry.isSymbolicLink()) this.kinds[prefix] = 2;
    }
  }

  verdict(prefix: number): PrefixVerdict {
    const kind = this.kinds[prefix];
    return kind === 1 ? 'sweep' : kind === 2 ? 'refused' : 'absent';
  }
}

class RecordedPlan extends SweepPlan {
  constructor(
    private readonly chunksDir: string,
    private readonly record: EmptyPrefixes,
    private readonly marginMs: number,
  ) {
    super();
  }

  verdict(prefix: number): PrefixVerdict {
    const path = join(this.chunksDir, prefixDirName(prefix));
    let st;
    try {
      st = lstatSync(path, { throwIfNoEntry: false });
    } catch (err) {
      throw ioError('look at', path, err);
    }
    if (!st) return 'absent';
    if (st.isSymbolicLink()) return 'refused';
    if (!st.isDirectory()) return 'absent';
    return this.record.untouched(prefix, st, this.marginMs) ? 'skip' : 'sweep';
  }
}
