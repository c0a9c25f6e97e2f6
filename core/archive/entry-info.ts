import { isUtf8 } from 'node:buffer';
import { EntryKind, kindName, type ArchiveEntry, type EntryKindName } from './archive-format.js';
import { displayName } from './names.js';

/** An archive entry as the CLI's --json, the app and diffs show it. */
export interface EntryInfo {
  /** The name as shown (names.ts: a name that is not valid UTF-8 has `\xHH` escapes; paths accept this form). */
  name: string;
  /** Only for names that are not valid UTF-8: the exact bytes, as hex. */
  nameHex?: string;
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
    name: displayName(entry.name),
    kind: kindName(entry.kind),
    size: entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink ? entry.size : 0,
    mode: entry.mode.toString(8).padStart(3, '0'),
    mtime: Number.isFinite(ms) ? new Date(ms).toISOString() : '',
    mtimeNs: entry.mtimeNs.toString(),
  };
  if (!isUtf8(entry.name)) info.nameHex = entry.name.toString('hex');
  if (entry.kind === EntryKind.Symlink) info.target = displayName(entry.target);
  if (entry.kind === EntryKind.Hardlink && entry.linkTarget) info.target = displayName(entry.linkTarget);
  if (entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink) info.digest = entry.digest.toString('hex');
  return info;
}
