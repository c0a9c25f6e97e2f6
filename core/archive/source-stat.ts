import type { BigIntStats } from 'node:fs';

// Apart from source-scan.ts so that base-listing.ts, which the scan uses, can take it without an import cycle.

/** What the backup needs of an lstat, kept compact (a tree may hold 100,000s of these). */
export interface SourceStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  ctimeNs: bigint;
  ino: bigint;
  dev: bigint;
  nlink: number;
}

/** The SourceStat of an lstat. */
export function compactStat(st: BigIntStats): SourceStat {
  return {
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: unsigned64(st.ino),
    dev: unsigned64(st.dev),
    nlink: Number(st.nlink),
  };
}

/**
 * An inode or device number as the unsigned 64-bit number it is. Node's BigIntStats holds them signed, so one
 * from 2^63 up (NFS mounts have such inodes) comes back negative, which the archive's u64 field refused and a
 * base record (read unsigned) would never match. Every stat read by the backup goes through here.
 */
export function unsigned64(n: bigint): bigint {
  return n < 0n ? BigInt.asUintN(64, n) : n;
}

/** Whether a fresh lstat or fstat is of the inode a scan saw (`stat`). */
export function sameInode(st: BigIntStats, stat: Pick<SourceStat, 'ino' | 'dev'>): boolean {
  return unsigned64(st.ino) === stat.ino && unsigned64(st.dev) === stat.dev;
}

/** The key under which the links of one inode meet (undefined for a file with a single link). */
export function hardlinkKey(st: SourceStat | BigIntStats): string | undefined {
  return st.nlink > 1 ? `${unsigned64(st.dev)}:${unsigned64(st.ino)}` : undefined;
}

/**
 * The file on disk is the one an entry records, by size and mtime within a millisecond (a restore sets mtimes to
 * within 120 ns, and some filesystems keep less); its contents are not read.
 */
export function sameSizeAndTime(st: BigIntStats, entry: { size: number; mtimeNs: bigint }): boolean {
  if (!st.isFile() || Number(st.size) !== entry.size) return false;
  const apart = st.mtimeNs - entry.mtimeNs;
  return apart < 1_000_000n && apart > -1_000_000n;
}
