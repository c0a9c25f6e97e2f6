import { constants, type BigIntStats } from 'node:fs';
import { compactStat, type SourceStat } from './source-stat.js';
import type { SourceKind, SourceNode } from './source-scan.js';

// The nodes a scan makes for the entries of the folders it lists (source-scan.ts). A folder of 200,000 files
// holds every entry from its listing until the backup reaches it, so what an entry takes is what a large folder
// costs: 97 bytes of JS heap and 56 in typed arrays, where an object with its own fields and BigInts took 217 of
// heap. The heap's part counts more than once at the peak: V8 lets the heap grow well past what survived its
// last full collection before it collects again (first backup of 200,000 files in one folder: peak RSS
// 256-259 -> 219-224 MiB).

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK } = constants;

/** From the mode as a number: BigIntStats' isFile() and the like do BigInt arithmetic on every call. */
export function kindOf(mode: number): SourceKind | undefined {
  const type = mode & S_IFMT;
  return type === S_IFREG ? 'file' : type === S_IFDIR ? 'directory' : type === S_IFLNK ? 'symlink' : undefined;
}

/** The display path of `name` inside the folder at `parentRel` ('' for the root). */
export function childRel(parentRel: string, name: Buffer): string {
  return parentRel ? `${parentRel}/${name.toString()}` : name.toString();
}

const SLASH = Buffer.from('/');
/** A byte above 0x7f in a latin1 string (every character of one is a byte). */
const NON_ASCII = /[\u0080-\u00ff]/;

/**
 * The path of the entry `name` (its bytes as a latin1 string) in the folder at `dir`: a string while every name
 * on the way is ASCII (Node passes it on as the same bytes), else the exact bytes.
 */
export function childPath(dir: string | Buffer, name: string): string | Buffer {
  if (typeof dir === 'string' && !NON_ASCII.test(name)) return `${dir}/${name}`;
  return Buffer.concat([typeof dir === 'string' ? Buffer.from(dir) : dir, SLASH, Buffer.from(name, 'latin1')]);
}

/**
 * The lstat of each entry of one listed folder, a column per field, at the entry's index (its slot) in the
 * listing; ScannedFile reads them. The inode and device numbers are kept unsigned (a BigUint64Array wraps Node's
 * signed values as unsigned64 does).
 */
export class ListingStats {
  /** mode, uid, gid, nlink (at most 2^32 - 1: only whether it is above 1 matters), four a slot. */
  readonly small: Uint32Array;
  readonly sizes: Float64Array;
  /** mtimeNs, ctimeNs, two a slot. */
  readonly times: BigInt64Array;
  /** ino, dev, two a slot. */
  readonly ids: BigUint64Array;

  constructor(entries: number) {
    this.small = new Uint32Array(entries * 4);
    this.sizes = new Float64Array(entries);
    this.times = new BigInt64Array(entries * 2);
    this.ids = new BigUint64Array(entries * 2);
  }

  set(slot: number, st: BigIntStats): void {
    const at = slot * 4;
    this.small[at] = Number(st.mode);
    this.small[at + 1] = Number(st.uid);
    this.small[at + 2] = Number(st.gid);
    this.small[at + 3] = Math.min(Number(st.nlink), 0xffffffff);
    this.sizes[slot] = Number(st.size);
    this.times[slot * 2] = st.mtimeNs;
    this.times[slot * 2 + 1] = st.ctimeNs;
    this.ids[slot * 2] = st.ino;
    this.ids[slot * 2 + 1] = st.dev;
  }
}

/**
 * An entry of a listed folder. Its name's Buffer, its path on disk and its display path are made from its
 * folder's each time they are asked for (once or twice: to open it, to record it, to show it); an unchanged
 * file's name is compared as nameLatin1 and its Buffer never made.
 */
abstract class ScannedEntry implements SourceNode {
  constructor(
    readonly nameLatin1: string,
    protected readonly parent: SourceNode,
  ) {}

  abstract get kind(): SourceKind;
  abstract get stat(): SourceStat;

  get path(): string | Buffer {
    return childPath(this.parent.path, this.nameLatin1);
  }

  get name(): Buffer {
    return Buffer.from(this.nameLatin1, 'latin1');
  }

  get rel(): string {
    return childRel(this.parent.rel, this.name);
  }
}

/** A scanned file or symlink: its own SourceStat, read from its folder's ListingStats. */
export class ScannedFile extends ScannedEntry implements SourceStat {
  constructor(
    nameLatin1: string,
    parent: SourceNode,
    private readonly listing: ListingStats,
    private readonly slot: number,
  ) {
    super(nameLatin1, parent);
  }

  get kind(): SourceKind {
    return kindOf(this.mode)!;
  }

  get stat(): SourceStat {
    return this;
  }

  get mode(): number {
    return this.listing.small[this.slot * 4]!;
  }

  get uid(): number {
    return this.listing.small[this.slot * 4 + 1]!;
  }

  get gid(): number {
    return this.listing.small[this.slot * 4 + 2]!;
  }

  get nlink(): number {
    return this.listing.small[this.slot * 4 + 3]!;
  }

  get size(): number {
    return this.listing.sizes[this.slot]!;
  }

  get mtimeNs(): bigint {
    return this.listing.times[this.slot * 2]!;
  }

  get ctimeNs(): bigint {
    return this.listing.times[this.slot * 2 + 1]!;
  }

  get ino(): bigint {
    return this.listing.ids[this.slot * 2]!;
  }

  get dev(): bigint {
    return this.listing.ids[this.slot * 2 + 1]!;
  }
}

/** A scanned folder: it also keeps its paths (every path below it is made from them) and, once listed, its children. */
export class ScannedFolder extends ScannedEntry {
  private readonly folderStat: SourceStat;
  children?: SourceNode[];
  listingCtimeNs?: bigint;
  scanRules?: SourceNode['scanRules'];
  private folderPath: string | Buffer | undefined;
  private relPath: string | undefined;

  constructor(nameLatin1: string, parent: SourceNode, st: BigIntStats) {
    super(nameLatin1, parent);
    this.folderStat = compactStat(st);
  }

  get kind(): SourceKind {
    return 'directory';
  }

  get stat(): SourceStat {
    return this.folderStat;
  }

  override get path(): string | Buffer {
    return (this.folderPath ??= super.path);
  }

  override get rel(): string {
    return (this.relPath ??= super.rel);
  }
}
