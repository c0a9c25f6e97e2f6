import { matchesGlob } from 'node:path';
import { CairnError } from '../errors.js';
import { EntryKind, kindName, type ArchiveEntry, type DirectoryEntry, type EntryKindName } from './archive-format.js';
import type { FolderArchiveReader } from './folder-reader.js';
import { displayName } from './names.js';

/** What `find` looks for: a name (glob or substring, case-insensitive), and optionally sizes and dates. */
export interface FindQuery {
  /**
   * With `*`, `?` or `[`, a glob: matched against the name, or against the whole path when it holds a `/`.
   * Otherwise a part of the name. Either way without regard to case; names that are not UTF-8 in their shown
   * form (`\xHH`, names.ts).
   */
  pattern: string;
  minSize?: number;
  maxSize?: number;
  /** Epoch ms: only entries whose mtime is at or after it (`--newer`), or before it (`--older`). */
  newerThan?: number;
  olderThan?: number;
}

export interface FoundEntry {
  /** `/`-separated from the archive's root, names as shown. */
  path: string;
  kind: EntryKindName;
  size: number;
  mtime: number;
}

/** A matcher for one query: its pattern folded to lower case once. */
export function entryMatcher(query: FindQuery): (path: string, entry: ArchiveEntry) => boolean {
  if (query.pattern === '')
    throw new CairnError('INVALID_ARGUMENT', 'the pattern is empty: give a name, a part of one, or a glob');
  const pattern = query.pattern.toLowerCase();
  const glob = /[*?[]/.test(pattern);
  const onPath = pattern.includes('/');
  return (path, entry) => {
    const size = sizeOf(entry);
    if (query.minSize !== undefined && size < query.minSize) return false;
    if (query.maxSize !== undefined && size > query.maxSize) return false;
    const mtime = Number(entry.mtimeNs / 1_000_000n);
    if (query.newerThan !== undefined && mtime < query.newerThan) return false;
    if (query.olderThan !== undefined && mtime >= query.olderThan) return false;
    const subject = (onPath ? path.slice(1) : displayName(entry.name)).toLowerCase();
    return glob ? matchesGlob(subject, pattern) : subject.includes(pattern);
  };
}

function sizeOf(entry: ArchiveEntry): number {
  return entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink ? entry.size : 0;
}

/**
 * Every entry of a folder snapshot that matches, as the walk finds them (depth first, folder by folder: the
 * caller streams them out). Reads only the metadata stream, never contents.
 */
export function* findEntries(
  reader: FolderArchiveReader,
  query: FindQuery,
  signal?: AbortSignal,
): Generator<FoundEntry> {
  const matches = entryMatcher(query);
  const stack: { dir: DirectoryEntry; path: string }[] = [{ dir: reader.root, path: '' }];
  while (stack.length > 0) {
    if (signal?.aborted) throw new CairnError('CANCELLED', 'find cancelled');
    const { dir, path } = stack.pop()!;
    const children = reader.readDirectory(dir);
    for (const entry of children) {
      const childPath = `${path}/${displayName(entry.name)}`;
      if (matches(childPath, entry))
        yield {
          path: childPath,
          kind: kindName(entry.kind),
          size: sizeOf(entry),
          mtime: Number(entry.mtimeNs / 1_000_000n),
        };
    }
    for (let i = children.length - 1; i >= 0; i--) {
      const entry = children[i]!;
      if (entry.kind === EntryKind.Directory) stack.push({ dir: entry, path: `${path}/${displayName(entry.name)}` });
    }
  }
}
