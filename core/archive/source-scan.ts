import { lstatSync, readdirSync, realpathSync, statSync, type BigIntStats } from 'node:fs';
import { CairnError, ioError } from '../errors.js';
import type { Logger } from '../log.js';
import { throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns } from '../jobs/rate-meter.js';
import { isSafeName, UNTRUSTED_LISTING } from './archive-format.js';
import { BaseListings, type BaseFolder, type BaseRecordListing } from './base-listing.js';
import { IGNORE_FILE, type ExcludeRules } from './excludes.js';
import { LeftOut } from './left-out.js';
import { childPath, childRel, kindOf, ListingStats, ScannedFile, ScannedFolder } from './scanned-entry.js';
import { compactStat, hardlinkKey, sameInode, type SourceStat } from './source-stat.js';

export type SourceKind = 'file' | 'directory' | 'symlink';

export interface SourceNode {
  readonly name: Buffer;
  /** The name's bytes as a latin1 string (a character a byte): compared without making the Buffer. */
  readonly nameLatin1: string;
  /**
   * Where the entry is on disk: a string while every name on the way is ASCII (Node passes it on as the same
   * bytes, and strings cost less than a Buffer per entry), else the exact bytes.
   */
  readonly path: string | Buffer;
  /** Path from the root, '/'-separated, decoded for display and exclude matching. */
  readonly rel: string;
  readonly kind: SourceKind;
  readonly stat: SourceStat;
  /** Directories: children sorted by name bytes. */
  children?: SourceNode[];
  /**
   * Directories: the ctime their entry records (docs/FORMAT.md), so that the next backup may take their names
   * from this backup's record: UNTRUSTED_LISTING unless every entry was backed up and the folder had settled
   * (listingSettleMs). Until the folder is listed, what it will be if every entry is backed up.
   */
  listingCtimeNs?: bigint;
  /** Directories not listed yet (SourceTree.expand): the exclude rules that hold inside them. */
  scanRules?: ExcludeRules;
}

/**
 * How long before a scan a folder's ctime must lie for its record to stand in for listing it next time. A
 * change right after the listing could otherwise keep the same ctime. Filesystems that keep timestamps to the
 * nanosecond (ext4, XFS, btrfs, tmpfs, APFS, NTFS) blur them only by the kernel clock's tick, a few
 * milliseconds; a ctime with a part below the millisecond shows one. Others keep whole seconds, or 2 (FAT).
 */
export function listingSettleMs(ctimeNs: bigint): number {
  return ctimeNs % 1_000_000n !== 0n ? 100 : 3000;
}

export interface ScanTotals {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
  skipped: number;
  excluded: number;
  excludedBytes: number;
  /** Folders whose names were taken from the base's records instead of being read (BaseListings). */
  listedFromBase: number;
}

export interface ScanOptions {
  excludes: ExcludeRules;
  log: Logger;
  signal?: AbortSignal;
  onProgress?: (totals: ScanTotals) => void;
  /** Called for each excluded entry (the exclude preview); `bytes` is a file's size (0 for a folder, not entered). */
  onExcluded?: (rel: string, isDirectory: boolean, bytes: number, path: Buffer) => void;
  /** The backup's base: folders unchanged since it was taken are not read again. */
  base?: BaseListings;
  /** When the scan began (ms since the epoch; default now): folders changed shortly before have not settled. */
  startedAtMs?: number;
  /** Where the backup keeps the entries it could not take (an unreadable folder, a name it cannot store). */
  leftOut?: LeftOut;
  /** Called for each regular file taken (the exclude preview looks whether it can be read). */
  onFile?: (rel: string, path: string | Buffer, st: BigIntStats) => void;
}

/** A folder to back up given as a symlink: the group records the path it was given, so the folder itself is asked for. */
function symlinkedRoot(path: string): CairnError {
  let target = '';
  try {
    target = realpathSync(path);
  } catch {
    // a dangling link: named as a symlink all the same
  }
  return new CairnError(
    'INVALID_ARGUMENT',
    target && statSync(target).isDirectory()
      ? `${path} is a symlink to the folder ${target}: back up ${target} itself`
      : `${path} is a symlink, not a folder`,
  );
}

function describeSpecial(st: BigIntStats): string {
  return st.isSocket()
    ? 'socket'
    : st.isFIFO()
      ? 'FIFO'
      : st.isBlockDevice()
        ? 'block device'
        : st.isCharacterDevice()
          ? 'character device'
          : 'special file';
}

/**
 * Walks the whole source at once (the exclude preview, and counting a backup's totals): the totals, and with
 * `keep` the tree. Entries that vanish or cannot be read are logged and counted as skipped; sockets, FIFOs and
 * devices are skipped too.
 */
export async function scanSource(
  root: string,
  options: ScanOptions,
  keep = true,
): Promise<{ root: SourceNode; totals: ScanTotals }> {
  const scan = new SourceScan(options, keep);
  const rootNode = scan.rootNode(root, '', options.excludes);
  await scan.walk(rootNode, options.base?.root);
  options.onProgress?.({ ...scan.totals });
  return { root: rootNode, totals: scan.totals };
}

/** A folder of a backup of several, and its name in the archive's root (core/archive/multi-source.ts). */
export interface NamedFolder {
  readonly path: string;
  readonly name: string;
}

/**
 * A source tree listed folder by folder as a backup reaches it, so that memory holds the folders on the way
 * down and not the tree (a million files were 1.5 GB held whole). The totals grow as it goes and are exact
 * once every folder was expanded.
 */
export interface SourceTree {
  readonly root: SourceNode;
  readonly totals: ScanTotals;
  /** Lists the folder `dir` (once; its entries not yet below): `baseFolder` is its entry in the backup's base. */
  expand(dir: SourceNode, baseFolder: BaseFolder | undefined): Promise<void>;
  /** Lists the folders asked for, before anything is written: one that cannot be read fails the backup. */
  listRoots(baseRoot: BaseFolder | undefined): Promise<void>;
}

/**
 * The tree of one folder (its root is the archive's), or of several: the root is then `virtualRoot`, holding
 * one folder per source under its name, each with the excludes as seen from its folder. One scan, so the
 * totals and the hardlinks seen are shared.
 */
export function openSourceTree(
  folders: readonly NamedFolder[],
  virtualRoot: ((children: SourceNode[]) => SourceNode) | undefined,
  options: ScanOptions,
): SourceTree {
  const scan = new SourceScan(options);
  const expand = async (dir: SourceNode, base: BaseFolder | undefined): Promise<void> =>
    void (await scan.expand(dir, base));
  if (!virtualRoot) {
    const root = scan.rootNode(folders[0]!.path, '', options.excludes);
    return { root, totals: scan.totals, expand, listRoots: (base) => expand(root, base) };
  }
  const nodes = folders.map((f) => scan.rootNode(f.path, f.name, options.excludes.under(f.name)));
  const root = virtualRoot(nodes.sort((a, b) => Buffer.compare(a.name, b.name)));
  scan.totals.directories++;
  // Listed without their base records: a few readdirs more, and no folder is found unreadable too late.
  const listRoots = async (): Promise<void> => {
    for (const node of nodes) await expand(node, undefined);
  };
  return { root, totals: scan.totals, expand, listRoots };
}

/** Walks several folders as one tree (openSourceTree), at once: counting a backup's totals. */
export async function scanSources(
  folders: readonly NamedFolder[],
  virtualRoot: (children: SourceNode[]) => SourceNode,
  options: ScanOptions,
  keep = true,
): Promise<{ root: SourceNode; totals: ScanTotals }> {
  const scan = new SourceScan(options, keep);
  const nodes = folders.map((f) => scan.rootNode(f.path, f.name, options.excludes.under(f.name)));
  const root = virtualRoot(nodes.sort((a, b) => Buffer.compare(a.name, b.name)));
  scan.totals.directories++;
  const baseRoot = options.base && options.base.read(options.base.root);
  for (const node of nodes) {
    throwIfCancelled(options.signal, 'backup');
    await scan.walk(node, baseRoot?.folders.get(node.nameLatin1));
  }
  options.onProgress?.({ ...scan.totals });
  return { root, totals: scan.totals };
}

/** One scan of a source tree: its totals so far, and what it must remember across folders. */
class SourceScan {
  readonly totals: ScanTotals = {
    files: 0,
    directories: 0,
    symlinks: 0,
    bytes: 0,
    skipped: 0,
    excluded: 0,
    excludedBytes: 0,
    listedFromBase: 0,
  };
  /** Folders whose ctime is later than this less their settle time may change unseen (listingSettleMs). */
  private readonly scanStartNs: bigint;
  private readonly log: Logger;
  private readonly leftOut: LeftOut;
  /** The folders asked for: one that cannot be read fails the scan. */
  private readonly roots = new Set<SourceNode>();
  /** Hardlinked inodes already counted: their content is stored (and read) once. */
  private readonly linked = new Set<string>();
  /** Between folders, a turn of the event loop every 50 ms: progress goes out, a cancel comes in. */
  private readonly turns = new EventLoopTurns();

  /**
   * `keep: false` (a walk that keeps nothing: counting, the exclude preview): files and symlinks are counted and
   * not made into nodes, so a folder of 200,000 files costs its names, not its entries, and each folder's entries
   * are let go once walked.
   */
  constructor(
    private readonly options: ScanOptions,
    private readonly keep = true,
  ) {
    this.scanStartNs = BigInt(options.startedAtMs ?? Date.now()) * 1_000_000n;
    this.log = options.log;
    this.leftOut = options.leftOut ?? new LeftOut(options.log);
  }

  /** The node of a folder asked for, `name` in the archive ('' for the root); it must be a folder. */
  rootNode(path: string, name: string, rules: ExcludeRules): SourceNode {
    let rootStat: BigIntStats;
    try {
      rootStat = lstatSync(path, { bigint: true });
    } catch (err) {
      throw ioError('back up', path, err);
    }
    if (rootStat.isSymbolicLink()) throw symlinkedRoot(path);
    if (!rootStat.isDirectory()) throw new CairnError('INVALID_ARGUMENT', `${path} is not a folder`);
    const nameBytes = Buffer.from(name);
    const root: SourceNode = {
      name: nameBytes,
      nameLatin1: nameBytes.toString('latin1'),
      path,
      rel: name,
      kind: 'directory',
      stat: compactStat(rootStat),
      scanRules: rules,
    };
    root.listingCtimeNs = this.settled(root.stat) ? root.stat.ctimeNs : UNTRUSTED_LISTING;
    this.roots.add(root);
    this.totals.directories++;
    return root;
  }

  /** Scans the folder `dir` and everything below it (each folder's entries left on its node if the scan keeps them). */
  async walk(dir: SourceNode, baseFolder: BaseFolder | undefined): Promise<void> {
    const baseRecord = await this.expand(dir, baseFolder);
    for (const child of dir.children ?? []) {
      if (child.kind !== 'directory') continue;
      await this.walk(child, baseRecord?.folders.get(child.nameLatin1));
    }
    if (!this.keep) dir.children = undefined;
  }

  /**
   * Lists the folder `dir` (its children, not below them), once; `baseFolder` is its entry in the backup's
   * base. Returns the base record it read, if any. Every 50 ms a turn of the event loop: progress goes out, a
   * cancel comes in (a folder of 200,000 entries takes a second).
   */
  async expand(dir: SourceNode, baseFolder: BaseFolder | undefined): Promise<BaseRecordListing | undefined> {
    if (dir.children) return undefined;
    const rules = dir.scanRules!;
    dir.scanRules = undefined;
    const baseRecord = baseFolder && this.options.base?.read(baseFolder);
    const names = this.listNames(dir, baseFolder, baseRecord);
    if (!names) return undefined;
    /** Every entry is backed up: the record will list the folder completely. */
    let complete = true;
    // Only a folder that lists the ignore file is asked for it: a failed read per folder costs an exception each.
    const inner = names.includes(IGNORE_FILE) ? rules.enter(dir.path, dir.rel, (m) => this.log.warn(m)) : rules;
    const children: SourceNode[] = [];
    const stats = this.keep ? new ListingStats(names.length) : undefined;
    for (let i = 0; i < names.length; i++) {
      const node = this.scanEntry(dir, names[i]!, inner, stats, i);
      if (!node) complete = false;
      else if (node !== COUNTED) {
        if (node.kind === 'directory') node.scanRules = inner;
        children.push(node);
      }
      if ((i & 1023) === 1023) await this.turn();
    }
    dir.children = children;
    dir.listingCtimeNs = complete && this.settled(dir.stat) ? dir.stat.ctimeNs : UNTRUSTED_LISTING;
    await this.turn();
    return baseRecord;
  }

  /** Whether the folder with `stat` changed long enough before the scan began (listingSettleMs). */
  private settled(stat: SourceStat): boolean {
    return stat.ctimeNs < this.scanStartNs - BigInt(listingSettleMs(stat.ctimeNs)) * 1_000_000n;
  }

  private async turn(): Promise<void> {
    const turn = this.turns.due();
    if (!turn) return;
    throwIfCancelled(this.options.signal, 'backup');
    this.options.onProgress?.({ ...this.totals });
    await turn;
  }

  /**
   * The names in `dir`, as latin1 strings (one character per byte: exact for any name, and sorted by the
   * default string order, which is then byte order; a Buffer per name kept the GC busy): from its base record
   * if that still lists it, else read. Undefined if the folder cannot be read (logged, counted as skipped).
   */
  private listNames(
    dir: SourceNode,
    baseFolder: BaseFolder | undefined,
    baseRecord: BaseRecordListing | undefined,
  ): readonly string[] | undefined {
    if (baseRecord && BaseListings.stillListed(baseFolder!, dir.stat)) {
      this.totals.listedFromBase++;
      return baseRecord.names;
    }
    let names: string[];
    try {
      names = readdirSync(dir.path, { encoding: 'latin1' });
    } catch (err) {
      // The folder asked for itself: a snapshot with nothing in it would look like a backup and be none.
      if (this.roots.has(dir)) throw ioError('back up', dir.path.toString(), err);
      this.leftOut.failedRead(dir.rel || '.', err, true);
      return this.skipFolder(dir);
    }
    // Listed a while after its parent: were it replaced by a symlink since, the names read are from elsewhere.
    const now = lstatSync(dir.path, { bigint: true, throwIfNoEntry: false });
    if (!now?.isDirectory() || !sameInode(now, dir.stat)) {
      this.log.warn(`folder ${dir.rel || '.'} was replaced or moved during the backup; its entries are skipped`);
      return this.skipFolder(dir);
    }
    return names.sort();
  }

  /** A folder whose names are not known (logged by the caller): recorded empty, and listed anew next time. */
  private skipFolder(dir: SourceNode): undefined {
    this.totals.skipped++;
    dir.children = [];
    dir.listingCtimeNs = UNTRUSTED_LISTING;
    return undefined;
  }

  /**
   * The node of the entry `name` in `dir`, a file's stat kept in `stats` at `slot` (none: the scan keeps no
   * files); undefined if it is skipped (logged, counted) or excluded.
   */
  private scanEntry(
    dir: SourceNode,
    name: string,
    rules: ExcludeRules,
    stats: ListingStats | undefined,
    slot: number,
  ): SourceNode | typeof COUNTED | undefined {
    const { totals } = this;
    const path = childPath(dir.path, name);
    if (!isSafeName(name)) {
      this.leftOut.add(relOf(dir, name), 'the name cannot be stored');
      return this.skip();
    }
    let st: BigIntStats;
    try {
      st = lstatSync(path, { bigint: true });
    } catch (err) {
      this.leftOut.failedRead(relOf(dir, name), err);
      return this.skip();
    }
    const kind = kindOf(Number(st.mode));
    if (!kind) {
      this.log.warn(`skipped ${relOf(dir, name)}: a ${describeSpecial(st)} cannot be backed up`);
      return this.skip();
    }
    if (!rules.empty) {
      const rel = relOf(dir, name);
      if (rules.isExcluded(rel, kind === 'directory')) {
        totals.excluded++;
        if (kind === 'file') totals.excludedBytes += Number(st.size);
        this.options.onExcluded?.(
          rel,
          kind === 'directory',
          kind === 'file' ? Number(st.size) : 0,
          typeof path === 'string' ? Buffer.from(path) : path,
        );
        return undefined;
      }
    }
    if (kind !== 'directory') {
      this.count(kind, st);
      if (kind === 'file') this.options.onFile?.(relOf(dir, name), path, st);
      if (!stats) return COUNTED;
      stats.set(slot, st);
      return new ScannedFile(name, dir, stats, slot);
    }
    const node = new ScannedFolder(name, dir, st);
    totals.directories++;
    // What its entry will record if every entry in it is backed up; expand() says for sure once listed.
    node.listingCtimeNs = this.settled(node.stat) ? node.stat.ctimeNs : UNTRUSTED_LISTING;
    return node;
  }

  /** A file or symlink in the totals (a file's content once for all its links). */
  private count(kind: SourceKind, st: BigIntStats): void {
    const { totals } = this;
    if (kind === 'symlink') {
      totals.symlinks++;
      return;
    }
    totals.files++;
    const key = hardlinkKey(st);
    if (!key || !this.linked.has(key)) totals.bytes += Number(st.size);
    if (key) this.linked.add(key);
  }

  /** An entry not in the snapshot (logged by the caller), in the archive's count of skipped entries. */
  private skip(): undefined {
    this.totals.skipped++;
    return undefined;
  }
}

/** What scanEntry returns for a file it counted and did not keep (a SourceScan that keeps nothing). */
const COUNTED = Symbol('counted');

/** The display path of the entry `name` (its bytes as a latin1 string) in `dir`. */
function relOf(dir: SourceNode, name: string): string {
  return childRel(dir.rel, Buffer.from(name, 'latin1'));
}
