import { isUtf8 } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { listingSettleMs } from '../../core/archive/source-scan.js';

export type TreeKind = 'file' | 'directory' | 'symlink' | 'other';

export interface TreeEntry {
  kind: TreeKind;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  ino: bigint;
  nlink: number;
  target?: Buffer;
  /** Where the entry is, as bytes (names need not be valid UTF-8). */
  path: Buffer;
}

/** A name as a key of readTree: itself when it is valid UTF-8, else `hex:` and its bytes in hex. */
export function treeKey(name: Buffer): string {
  return isUtf8(name) ? name.toString() : `hex:${name.toString('hex')}`;
}

/**
 * Every entry below `root` (lstat, never following symlinks), keyed by '/'-separated path (names as treeKey
 * gives them); the root is ''.
 */
export function readTree(root: string): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const visit = (path: Buffer, rel: string): void => {
    const st = lstatSync(path, { bigint: true });
    const kind: TreeKind = st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'directory'
        : st.isSymbolicLink()
          ? 'symlink'
          : 'other';
    out.set(rel, {
      kind,
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: Number(st.size),
      mtimeNs: st.mtimeNs,
      ino: st.ino,
      nlink: Number(st.nlink),
      target: kind === 'symlink' ? readlinkSync(path, { encoding: 'buffer' }) : undefined,
      path,
    });
    if (kind === 'directory') {
      for (const name of readdirSync(path, { encoding: 'buffer' })) {
        visit(Buffer.concat([path, Buffer.from('/'), name]), rel ? `${rel}/${treeKey(name)}` : treeKey(name));
      }
    }
  };
  visit(Buffer.from(root), '');
  return out;
}

/**
 * Waits until every folder under `root` has settled (listingSettleMs): from then on, backups of the tree record
 * the same listing ctimes whenever they run, so their metadata can be compared byte for byte.
 */
export async function settleFolders(root: string): Promise<void> {
  let until = 0;
  for (const e of readTree(root).values()) {
    if (e.kind !== 'directory') continue;
    const ctimeNs = lstatSync(e.path, { bigint: true }).ctimeNs;
    until = Math.max(until, Number(ctimeNs / 1_000_000n) + listingSettleMs(ctimeNs) + 20);
  }
  const wait = until - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

export interface CompareOptions {
  /** Source paths that are not expected in the copy (skipped special files); everything below them too. */
  skip?: readonly string[];
  /** Compare owners (only meaningful when the restore ran as root). */
  owners?: boolean;
}

/**
 * The restored tree `dst` equals `src`: the same paths and kinds, contents byte for byte, permission bits,
 * mtimes within 1 µs (files, folders and symlinks), symlink targets, and hardlinks as hardlinks: paths that
 * share an inode in the source share one in the copy (and no others do).
 */
export function expectSameTree(src: string, dst: string, options: CompareOptions = {}): void {
  const a = readTree(src);
  const b = readTree(dst);
  for (const s of options.skip ?? []) {
    for (const key of [...a.keys()]) if (key === s || key.startsWith(`${s}/`)) a.delete(key);
  }
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  const groups = new Map<bigint, string[]>();
  for (const [rel, x] of a) {
    const y = b.get(rel)!;
    const what = JSON.stringify(rel);
    expect(y.kind, what).toBe(x.kind);
    if (x.kind !== 'symlink') expect(y.mode.toString(8), what).toBe(x.mode.toString(8));
    const drift = y.mtimeNs - x.mtimeNs;
    expect(drift >= -1000n && drift <= 1000n, `${what}: mtime ${y.mtimeNs} vs ${x.mtimeNs} (ns)`).toBe(true);
    if (options.owners) expect([y.uid, y.gid], what).toEqual([x.uid, x.gid]);
    if (x.kind === 'file') {
      expect(y.size, what).toBe(x.size);
      const same = readFileSync(x.path).equals(readFileSync(y.path));
      expect(same, `${what}: content differs`).toBe(true);
      if (x.nlink > 1) groups.set(x.ino, [...(groups.get(x.ino) ?? []), rel]);
    }
    if (x.kind === 'symlink')
      expect(y.target!.equals(x.target!), `${what}: symlink target ${y.target} vs ${x.target}`).toBe(true);
  }
  const linkedInDst = new Set<bigint>();
  for (const paths of groups.values()) {
    if (paths.length < 2) continue; // the other links are outside the compared tree
    const inodes = new Set(paths.map((p) => b.get(p)!.ino));
    expect(inodes.size, `hardlinks ${paths.join(', ')} restored as separate files`).toBe(1);
    const ino = [...inodes][0]!;
    expect(linkedInDst.has(ino)).toBe(false);
    linkedInDst.add(ino);
    expect(b.get(paths[0]!)!.nlink).toBe(paths.length);
  }
  // Files that were not linked in the source are not linked in the copy.
  for (const [rel, x] of a) if (x.kind === 'file' && x.nlink === 1) expect(b.get(rel)!.nlink, rel).toBe(1);
}

/** Paths below `dir` whose name marks a temporary file (atomic writes, open indexes, files being restored). */
export function tmpFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (/\.tmp_/.test(e.name) || /^\.cairn-([A-Za-z0-9]+-\d+-)?[0-9a-f]{12}\.tmp$/.test(e.name))
      out.push(join(e.parentPath, e.name));
  }
  return out;
}

export function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

/** Writes a file, creating its folders. */
export function put(root: string, rel: string, data: string | Buffer, mode?: number): string {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  if (mode !== undefined) chmodSync(path, mode);
  return path;
}

/** Seconds with a fraction that is not a whole number of microseconds once converted (ns precision). */
export function oddTime(base: number, i: number): number {
  return base + i * 3600 + 0.123456789 + i * 0.000001017;
}

/** Sets mtimes (and atimes) of every entry below root, deepest first, so folder times are not disturbed. */
export function stampTimes(root: string, base = 1_500_000_000): void {
  const entries = [...readTree(root).entries()].sort(
    ([a], [b]) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1),
  );
  let i = 0;
  for (const [, e] of entries) {
    const t = oddTime(base, i++);
    if (e.kind === 'symlink') lutimesSync(e.path, t, t);
    else if (e.kind !== 'other') utimesSync(e.path, t, t);
  }
}
