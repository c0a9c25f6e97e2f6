import { accessSync, constants, lstatSync, readdirSync, type BigIntStats, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns } from '../jobs/rate-meter.js';
import { MemoryLogger } from '../log.js';
import { ExcludeRules } from './excludes.js';
import { LeftOut, type LeftOutEntry } from './left-out.js';
import { hardlinkKey } from './source-stat.js';
import { scanSource } from './source-scan.js';

export interface ExcludePreview {
  /**
   * Excluded paths (a folder stands for everything below it), at most `limit` of them; `bytes` is a file's size
   * or the content bytes of everything below a folder.
   */
  paths: { path: string; isDirectory: boolean; bytes: number }[];
  excluded: number;
  /** Content bytes left out: excluded files and the files below excluded folders (a file with several links once). */
  excludedBytes: number;
  /** What would be backed up. */
  files: number;
  bytes: number;
  truncated: boolean;
  /**
   * Entries a backup would leave out, the first named: folders that cannot be listed, files this user cannot
   * read, names that cannot be stored.
   */
  leftOut: { count: number; named: LeftOutEntry[] };
}

const SLASH = Buffer.from('/');

/** A regular file's size, or 0 when it has several links and one of them was counted already. */
function fileBytes(st: Stats, seen: Set<string>): number {
  if (st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return 0;
    seen.add(key);
  }
  return st.size;
}

/**
 * The content bytes of the regular files below `root`, never following symlinks (fileBytes: a file with
 * several links once). Entries that cannot be read are passed over.
 */
async function folderBytes(root: Buffer, seen: Set<string>, signal: AbortSignal | undefined): Promise<number> {
  let total = 0;
  const stack = [root];
  const turns = new EventLoopTurns();
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: Buffer[];
    try {
      names = readdirSync(dir, { encoding: 'buffer' });
    } catch {
      continue;
    }
    for (const name of names) {
      const path = Buffer.concat([dir, SLASH, name]);
      const st = lstatSync(path, { throwIfNoEntry: false });
      if (st?.isDirectory()) stack.push(path);
      else if (st?.isFile()) total += fileBytes(st, seen);
    }
    const turn = turns.due();
    if (turn) {
      throwIfCancelled(signal, 'exclude preview');
      await turn;
    }
  }
  return total;
}

/** What a set of patterns (plus the `.cairnignore` files in the tree) would exclude from a backup of `root`. */
export async function previewExcludes(
  root: string,
  patterns: readonly string[],
  options: { limit?: number; signal?: AbortSignal } = {},
): Promise<ExcludePreview> {
  const limit = options.limit ?? 1000;
  const paths: ExcludePreview['paths'] = [];
  const folders: { path: Buffer; shown?: ExcludePreview['paths'][number] }[] = [];
  const seen = new Set<string>();
  let excludedBytes = 0;
  const leftOut = new LeftOut(new MemoryLogger());
  const unreadable = new UnreadableFiles(leftOut);
  // Only the totals are wanted: the walk keeps no entries (a folder of 200,000 files costs its names).
  const { totals } = await scanSource(
    resolve(root),
    {
      excludes: ExcludeRules.fromPatterns(patterns),
      log: new MemoryLogger(),
      signal: options.signal,
      leftOut,
      onFile: (rel, path, st) => unreadable.check(rel, path, st),
      onExcluded: (path, isDirectory, bytes, abs) => {
        const shown = paths.length < limit ? { path, isDirectory, bytes } : undefined;
        if (shown) paths.push(shown);
        if (isDirectory) folders.push({ path: abs, shown });
        else {
          const st = lstatSync(abs, { throwIfNoEntry: false });
          if (st?.isFile()) excludedBytes += fileBytes(st, seen);
        }
      },
    },
    false,
  );
  // The backup never enters an excluded folder; the preview does, to tell what it holds.
  for (const folder of folders) {
    const bytes = await folderBytes(folder.path, seen, options.signal);
    if (folder.shown) folder.shown.bytes = bytes;
    excludedBytes += bytes;
  }
  return {
    paths,
    excluded: totals.excluded,
    excludedBytes,
    files: totals.files - unreadable.files,
    bytes: totals.bytes - unreadable.bytes,
    truncated: totals.excluded > paths.length,
    leftOut: { count: leftOut.count, named: leftOut.named },
  };
}

/**
 * The files the backup could not open for reading, found without a system call for most: only a file whose mode
 * bits deny this user is asked about (access(2), which knows ACLs and root's privilege).
 */
class UnreadableFiles {
  /** The files found unreadable and their bytes: the scan's totals count them, a backup would not hold them. */
  files = 0;
  bytes = 0;
  private readonly linked = new Set<string>();
  private readonly uid = process.getuid?.() ?? 0;
  private readonly groups = new Set(process.getgroups?.() ?? []);

  constructor(private readonly leftOut: LeftOut) {}

  check(rel: string, path: string | Buffer, st: BigIntStats): void {
    if (!this.deniedByMode(st)) return;
    try {
      accessSync(path, constants.R_OK);
    } catch (err) {
      this.leftOut.failedRead(rel, err);
      this.files++;
      // The totals hold a file of several links once: so is it taken out of them.
      const key = hardlinkKey(st);
      if (key && this.linked.has(key)) return;
      if (key) this.linked.add(key);
      this.bytes += Number(st.size);
    }
  }

  private deniedByMode(st: BigIntStats): boolean {
    if (this.uid === 0) return false;
    const mode = Number(st.mode);
    if (Number(st.uid) === this.uid) return (mode & 0o400) === 0;
    if (this.groups.has(Number(st.gid))) return (mode & 0o040) === 0;
    return (mode & 0o004) === 0;
  }
}
