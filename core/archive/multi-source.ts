import { constants } from 'node:fs';
import { basename, resolve } from 'node:path';
import { toBackupId } from '../backup/backup-names.js';
import { assertSeparateSources, distinctNames, sortedSources } from '../backup/source-set.js';
import { CairnError } from '../errors.js';
import { UNTRUSTED_LISTING } from './archive-format.js';
import {
  openSourceTree,
  scanSource,
  scanSources,
  type NamedFolder,
  type SourceTree,
  type ScanOptions,
  type ScanTotals,
  type SourceNode,
} from './source-scan.js';
import type { SourceStat } from './source-stat.js';

/**
 * The folders of one folder backup. One folder is the archive's root, as it always was. Several are the
 * entries of a virtual root folder, each named by its folder's name (distinctNames: a parent's name joined in
 * front where two share one), in a snapshot of one folder archive; docs/FORMAT.md, "Several folders".
 */
export class FolderSources {
  private constructor(
    /** Sorted (sortedSources) when there are several; their names in the archive's root. */
    readonly folders: readonly NamedFolder[],
  ) {}

  /** The folders of a backup: refused when one is inside another or holds the store. */
  static of(source: string | readonly string[], storeRoot: string): FolderSources {
    const given = typeof source === 'string' ? [source] : source;
    assertSeparateSources(given, storeRoot);
    if (given.length === 1) return new FolderSources([{ path: resolve(given[0]!), name: '' }]);
    const paths = sortedSources(given);
    const names = distinctNames(paths, (parts) => parts.join('-'));
    return new FolderSources(paths.map((path, i) => ({ path, name: names[i]! })));
  }

  get several(): boolean {
    return this.folders.length > 1;
  }

  /** The paths, as the group records its source. */
  get paths(): string[] {
    return this.folders.map((f) => f.path);
  }

  /** The group id a backup without one takes: the folder's name (several folders need one given). */
  defaultId(): string {
    if (this.several)
      throw new CairnError('INVALID_NAME', 'a backup of several folders needs a group id; choose one (--id)');
    const root = this.folders[0]!.path;
    const id = toBackupId(basename(root));
    if (!id) throw new CairnError('INVALID_NAME', `cannot derive a backup id from ${root}; choose one`);
    return id;
  }

  /** The tree a backup walks, listed folder by folder as it goes (openSourceTree). */
  open(options: ScanOptions): SourceTree {
    return openSourceTree(this.folders, this.several ? virtualRoot : undefined, options);
  }

  /** Walks the whole tree without keeping it: the totals a backup's progress goes by. */
  async count(options: ScanOptions): Promise<ScanTotals> {
    const scanned = this.several
      ? await scanSources(this.folders, virtualRoot, options, false)
      : await scanSource(this.folders[0]!.path, options, false);
    return scanned.totals;
  }

  /** The path in the archive of an entry at `path` on disk ('/'-separated, from the root): a hardlink's target. */
  archivePath(path: string | Buffer): Buffer {
    const bytes = Buffer.from(path);
    for (const { path: folder, name } of this.folders) {
      const prefix = Buffer.from(`${folder}/`);
      if (bytes.length > prefix.length && bytes.subarray(0, prefix.length).equals(prefix)) {
        const rest = bytes.subarray(prefix.length);
        return name ? Buffer.concat([Buffer.from(`${name}/`), rest]) : rest;
      }
    }
    throw new Error(`${bytes.toString()} lies in none of the backup's folders`);
  }

  /** What the manifest notes of the source: the folder, or every folder with its name in the root. */
  manifestNote(): { source: string } | { sources: NamedFolder[] } {
    return this.several ? { sources: this.folders.map((f) => ({ ...f })) } : { source: this.folders[0]!.path };
  }
}

/**
 * The root of a backup of several folders: a folder that is nowhere on disk, so its entry's fields are fixed
 * (they are restored onto the target folder): mode 0755, the backing-up user as owner, the newest of the
 * sources' mtimes, no inode, and a listing that never stands in for reading (it is never read). The same
 * sources give the same entry, so an unchanged backup's trailer is the base's.
 */
function virtualRoot(children: SourceNode[]): SourceNode {
  const stat: SourceStat = {
    mode: constants.S_IFDIR | 0o755,
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    size: 0,
    mtimeNs: children.reduce((newest, c) => (c.stat.mtimeNs > newest ? c.stat.mtimeNs : newest), 0n),
    ctimeNs: 0n,
    ino: 0n,
    dev: 0n,
    nlink: 1,
  };
  return {
    name: Buffer.alloc(0),
    nameLatin1: '',
    path: '',
    rel: '',
    kind: 'directory',
    stat,
    children,
    listingCtimeNs: UNTRUSTED_LISTING,
  };
}
