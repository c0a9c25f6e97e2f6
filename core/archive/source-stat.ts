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
    ino: st.ino,
    dev: st.dev,
    nlink: Number(st.nlink),
  };
}

/** The key under which the links of one inode meet (undefined for a file with a single link). */
export function hardlinkKey(st: Pick<SourceStat, 'dev' | 'ino'> & { nlink: number | bigint }): string | undefined {
  return st.nlink > 1 ? `${st.dev}:${st.ino}` : undefined;
}
