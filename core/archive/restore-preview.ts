import { lstatSync, readlinkSync, type BigIntStats } from 'node:fs';
import { throwIfCancelled } from '../jobs/cancel.js';
import { EventLoopTurns } from '../jobs/rate-meter.js';
import { EntryKind, type ArchiveEntry, type DirectoryEntry } from './archive-format.js';
import type { FolderArchiveReader } from './folder-reader.js';
import { displayName } from './names.js';
import { sameSizeAndTime } from './source-stat.js';

/** What a restore into a folder would meet there, before it runs (nothing is written). */
export interface RestorePreview {
  /** Files and symlinks with nothing at their place: the restore creates them. */
  added: number;
  /** There as backed up (same size and mtime; a symlink to the same target): kept, or written again. */
  same: number;
  /** There and different (or something else in the way): kept, or replaced with overwrite. */
  differ: number;
  /** The first of those, as paths under the target. */
  differing: string[];
}

const DIFFERING_LISTED = 50;
/** What cannot be looked at (no permission, a file where a folder is in the path): the restore would not get by. */
const IN_THE_WAY = Symbol('in the way');
const SLASH = Buffer.from('/');

/**
 * Compares the selected paths of a snapshot with what is in `target`, as the restore would place them: the app's
 * restore puts a selected folder under its own name, the CLI's (`folderContents`, as restoreFolder does) its
 * contents straight into the target; the snapshot's root and a file go straight in. One lstat per entry, no
 * content read; the event loop is let in every 50 ms, so a cancel stops it at once.
 */
export async function previewRestore(
  reader: FolderArchiveReader,
  paths: readonly string[],
  target: string,
  options: { signal?: AbortSignal; folderContents?: boolean } = {},
): Promise<RestorePreview> {
  const preview = new RestorePreviewWalk(reader, options.signal);
  const into = Buffer.from(target);
  for (const path of paths) {
    const { entry, names } = reader.locate(path);
    if (entry.kind !== EntryKind.Directory) await preview.entry(entry, into, '');
    else if (path === '' || options.folderContents) await preview.children(entry, into, '');
    else await preview.entry(entry, into, '', displayName(names.at(-1)!));
  }
  return preview.result;
}

class RestorePreviewWalk {
  readonly result: RestorePreview = { added: 0, same: 0, differ: 0, differing: [] };
  private readonly turns = new EventLoopTurns();

  constructor(
    private readonly reader: FolderArchiveReader,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** The entries of `dir` against the folder `at` (absent: everything in it is added). */
  async children(dir: DirectoryEntry, at: Buffer | undefined, shown: string): Promise<void> {
    for (const child of this.reader.readDirectory(dir)) await this.entry(child, at, shown);
  }

  /** One entry against what is at its place in the folder `at`. */
  async entry(
    entry: ArchiveEntry,
    at: Buffer | undefined,
    shown: string,
    named = displayName(entry.name),
  ): Promise<void> {
    const turn = this.turns.due();
    if (turn) {
      throwIfCancelled(this.signal, 'restore preview');
      await turn;
    }
    const path = at && Buffer.concat([at, SLASH, entry.name]);
    const st = path && lstatOrInTheWay(path);
    const name = `${shown}${named}`;
    if (st === IN_THE_WAY) return this.differs(entry.kind === EntryKind.Directory ? `${name}/` : name);
    if (entry.kind === EntryKind.Directory) {
      if (st && !st.isDirectory()) this.differs(`${name}/`);
      else await this.children(entry, st ? path : undefined, `${name}/`);
      return;
    }
    if (!st) this.result.added++;
    else if (this.sameAs(st, path!, entry)) this.result.same++;
    else this.differs(name);
  }

  private sameAs(st: BigIntStats, path: Buffer, entry: Exclude<ArchiveEntry, DirectoryEntry>): boolean {
    if (entry.kind === EntryKind.Symlink)
      return st.isSymbolicLink() && readlinkSync(path, { encoding: 'buffer' }).equals(entry.target);
    return sameSizeAndTime(st, entry);
  }

  private differs(name: string): void {
    this.result.differ++;
    if (this.result.differing.length < DIFFERING_LISTED) this.result.differing.push(name);
  }
}

function lstatOrInTheWay(path: Buffer): BigIntStats | undefined | typeof IN_THE_WAY {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return IN_THE_WAY;
  }
}
