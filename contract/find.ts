import type { EntryKindName, SnapshotRef } from './model.js';

/**
 * Starting from the file: search a group's (or one snapshot's) names, a path's history across snapshots, a
 * file's preview, and the preview of a restore to where it was backed up from.
 */

/** What a search looks for: a name (a glob with `*`, `?` or `[`, else a part of it; any case), sizes and dates. */
export interface SearchQuery {
  pattern: string;
  minSize?: number;
  maxSize?: number;
  /** Epoch ms: modified at or after it; modified before it. */
  newerThan?: number;
  olderThan?: number;
}

/** A search started by the renderer, which names it (so it can tell its own updates from the first one on). */
export interface SearchRequest extends SearchQuery {
  searchId: string;
  store: string;
  group: { type: SnapshotRef['type']; id: string };
  /** Only this snapshot; else the group's finished folder snapshots, newest first. */
  snapshot?: SnapshotRef;
}

/** One path found, in the newest snapshot that holds it (a path is listed once per search). */
export interface SearchHit {
  /** `/`-separated from the snapshot's root, names as shown, without a leading slash (as browse paths are). */
  path: string;
  kind: EntryKindName;
  size: number;
  mtime: number;
  snapshot: SnapshotRef;
}

/** The most hits a search sends; past it, it stops and says so. */
export const MAX_SEARCH_HITS = 5000;

/**
 * A search's news (the `search.update` event, at most ~10 a second): the hits found since the last update and
 * how far it got. The last update has a `state` other than running.
 */
export interface SearchUpdate {
  searchId: string;
  hits: SearchHit[];
  snapshotsDone: number;
  snapshotsTotal: number;
  state: 'running' | 'done' | 'cancelled' | 'failed';
  /** Stopped at MAX_SEARCH_HITS. */
  truncated?: boolean;
  /** Snapshots that could not be read (a locked key, damage), named with why. */
  unreadable?: { snapshot: string; message: string }[];
  error?: { code: string; message: string };
}

/** One run of snapshots in which a path looked the same: present with one content, or absent. Oldest first. */
export interface PathVersionRow {
  state: 'present' | 'absent';
  /** The first and the last snapshot of the run, and how many it spans. */
  from: SnapshotRef;
  to: SnapshotRef;
  snapshots: number;
  kind?: EntryKindName;
  size?: number;
  mtime?: number;
  digest?: string;
  /** Present and different from the version before it. */
  changed: boolean;
}

export interface PathHistory {
  path: string;
  versions: PathVersionRow[];
  /** Snapshots that could not be read, named with why. */
  unreadable: { snapshot: string; message: string }[];
}

/** The bytes a preview sends at most: a text's and a binary's first part; an image larger than this is not sent. */
export const PREVIEW_TEXT_BYTES = 64 * 1024;
export const PREVIEW_HEX_BYTES = 4 * 1024;
export const PREVIEW_IMAGE_BYTES = 10 * 1024 * 1024;

export type PreviewImageType = 'image/png' | 'image/jpeg' | 'image/gif' | 'image/webp' | 'image/svg+xml';

/**
 * A file of a snapshot as the preview shows it, read and verified as a download is; nothing is written to disk.
 * `data`: the bytes, base64 (an image's, or a binary's first part); `text`: a UTF-8 text's first part.
 */
export type FilePreview =
  | { kind: 'text'; name: string; size: number; text: string; truncated: boolean }
  | { kind: 'image'; name: string; size: number; mime: PreviewImageType; data: string }
  | { kind: 'image-too-large'; name: string; size: number; mime: PreviewImageType }
  | { kind: 'binary'; name: string; size: number; data: string; truncated: boolean };

/** What a restore to the original place does with one file (core's in-place actions). */
export type InPlaceAction = 'restore' | 'unchanged' | 'overwrite' | 'keep-both' | 'skip' | 'newer-local';

export type ConflictChoice = 'overwrite' | 'keep-both' | 'skip';

export interface InPlaceItemRow {
  /** In the snapshot, without a leading slash. */
  path: string;
  /** Where it goes. */
  localPath: string;
  action: InPlaceAction;
  /** keep-both: where the restored copy goes. */
  restoredAs?: string;
  /** The file there changed after the backup: left alone unless the user includes such files (overwriteNewer). */
  changedSince?: boolean;
}

/** The most items a preview lists (the counts are exact); those that need a decision first. */
export const MAX_IN_PLACE_ITEMS = 1000;

/**
 * The preview of a restore to the original place: each file's fate with the user's choice, or why it cannot be
 * done (an encrypted snapshot records no folder it was backed up from).
 */
export type InPlacePreview =
  | {
      refused?: undefined;
      /** The folders it was backed up from. */
      sources: string[];
      items: InPlaceItemRow[];
      counts: Record<InPlaceAction, number>;
      /** Files there changed after the backup, whether or not they are included. */
      changedSince: number;
    }
  | { refused: 'encrypted' | 'no-source'; message: string };
