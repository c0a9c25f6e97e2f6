import { EntryKind, kindName, type ArchiveEntry, type EntryKindName } from './archive-format.js';

/** An archive entry as the CLI's --json, the app and diffs show it. */
export interface EntryInfo {
  name: string;
  kind: EntryKindName;
  size: number;
  /** Permission bits as octal text, e.g. "644". */
  mode: string;
  mtime: string;
  mtimeNs: string;
  /** Symlinks: the target; hardlinks: the first link's path. */
  target?: string;
  digest?: string;
}

export function entryInfo(entry: ArchiveEntry): EntryInfo {
  const ms = Number(entry.mtimeNs / 1_000_000n);
  const info: EntryInfo = {
    name: entry.name.toString(),
    kind: kindName(entry.kind),
    size: entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink ? entry.size : 0,
    mode: entry.mode.toString(8).padStart(3, '0'),
    mtime: Number.isFinite(ms) ? new Date(ms).toISOString() : '',
    mtimeNs: entry.mtimeNs.toString(),
  };
  if (entry.kind === EntryKind.Symlink) info.target = entry.target.toString();
  if (entry.kind === EntryKind.Hardlink) info.target = entry.linkTarget?.toString();
  if (entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink) info.digest = entry.digest.toString('hex');
  return info;
}
