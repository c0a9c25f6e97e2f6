import { readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { BACKUP_TYPES, isBackupTimeString, isValidBackupId, type BackupGroupRef } from '../backup/backup-names.js';
import { CairnError, errnoCode, ioError } from '../errors.js';
import { isRealDirectory } from '../fs/inside-root.js';
import { CLOCK_PROBE_PREFIX } from '../fs/store-clock.js';
import { FORGOTTEN_PREFIX } from '../prune/forget.js';

const INDEX_FILE = /\.(fidx|didx)$/;
const TMP_LEFTOVER = /\.tmp_[A-Za-z0-9_-]+$/;

export interface StoreWalk {
  /** Every index file in the store. */
  indexes: Set<string>;
  /** Crash leftovers to clean once they are older than the cutoff: index tmp files, interrupted forgets, clock probes. */
  leftovers: string[];
  /**
   * Symlinks where the store's own folders belong (`host`, `host/<id>`, `host/<id>/<time>`): the snapshots
   * behind them cannot be marked without following them, so GC must not delete anything.
   */
  layoutSymlinks: string[];
}

/**
 * Walks the whole store (hidden entries skipped, symlinks never followed, vanished entries ignored, unreadable
 * folders fatal) for index files, crash leftovers and symlinks in the store's layout.
 */
export function walkStore(root: string): StoreWalk {
  const out: StoreWalk = { indexes: new Set(), leftovers: [], layoutSymlinks: [] };
  const walk = (dir: string, depth: number): void => {
    for (const entry of readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('.')) {
        if (
          entry.name.startsWith(FORGOTTEN_PREFIX) ||
          (depth >= 3 && TMP_LEFTOVER.test(entry.name)) ||
          (depth === 0 && entry.name.startsWith(CLOCK_PROBE_PREFIX))
        )
          out.leftovers.push(path);
        continue;
      }
      if (entry.isSymbolicLink()) {
        if (isLayoutName(entry.name, depth)) out.layoutSymlinks.push(path);
      } else if (entry.isDirectory()) {
        if (entry.name === 'lost+found' && depth <= 1) continue;
        walk(path, depth + 1);
      } else if (entry.isFile()) {
        if (INDEX_FILE.test(entry.name)) out.indexes.add(path);
        else if (TMP_LEFTOVER.test(entry.name) && depth >= 3) out.leftovers.push(path);
      }
    }
  };
  walk(root, 0);
  return out;
}

/** A name the store's layout uses at this depth: a backup type, a group id, a snapshot time. */
function isLayoutName(name: string, depth: number): boolean {
  if (depth === 0) return (BACKUP_TYPES as readonly string[]).includes(name);
  if (depth === 1) return isValidBackupId(name);
  return depth === 2 && isBackupTimeString(name);
}

/** The groups of the store: real folders under real type folders (a symlink is reported by walkStore instead). */
export function listGroups(root: string): BackupGroupRef[] {
  const groups: BackupGroupRef[] = [];
  for (const type of BACKUP_TYPES) {
    if (!isRealDirectory(join(root, type))) continue;
    for (const entry of readDir(join(root, type))) {
      if (entry.isDirectory() && isValidBackupId(entry.name)) groups.push({ type, id: entry.name });
    }
  }
  return groups;
}

function readDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CairnError('IO', `GC stopped before deleting anything: permission denied reading ${dir}`);
    }
    throw ioError('list', dir, err);
  }
}
