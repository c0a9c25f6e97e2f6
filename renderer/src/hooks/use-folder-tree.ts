import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { EntryRow, SnapshotRef } from '../../../contract/model.js';
import { errorInfo, type CairnClient } from '../api/client.js';

/** A visible line: an entry, or the end of a folder whose next page is not loaded yet. */
export type TreeLine =
  | { kind: 'entry'; entry: EntryRow; depth: number }
  | { kind: 'more'; folder: string; depth: number; loaded: number; total: number };

interface LoadedFolder {
  entries: EntryRow[];
  total: number;
}

const PAGE = 2000;

export interface FolderTree {
  /** The visible lines, folders opened in place. */
  lines: TreeLine[];
  expanded: ReadonlySet<string>;
  /** Opens a folder (loading its first page if need be), or closes it. */
  toggle(entry: EntryRow): void;
  /** Loads a folder's next page (its first when none is loaded); one request per folder at a time. */
  loadMore(path: string, offset: number): void;
  /** Opens the folders down to `path` (loading what it takes) and answers with its entry; undefined if not there. */
  reveal(path: string): Promise<EntryRow | undefined>;
  /** The snapshot's root is loaded and holds nothing. */
  empty: boolean;
  error?: AppErrorInfo;
  setError(error: AppErrorInfo | undefined): void;
}

/**
 * A snapshot's folders as a lazy tree: a folder's entries are fetched, a page at a time, when it is opened; the
 * root at once. The snapshot is taken by path: a new row object for the same snapshot is no reason to reload.
 */
export function useFolderTree(
  client: CairnClient,
  store: string,
  snapshot: SnapshotRef & { path: string },
  /** A remote's snapshot instead: read through the remote's cache (`store` is then only the store open). */
  remote?: string,
): FolderTree {
  const [children, setChildren] = useState<Map<string, LoadedFolder>>(new Map());
  // What is loaded, as of now (reveal reads it between pages, before React renders).
  const loaded = useRef(children);
  const inFlight = useRef(new Map<string, Promise<void>>());
  const [expanded, setExpanded] = useState<Set<string>>(new Set());
  const [error, setError] = useState<AppErrorInfo>();
  const ref = { type: snapshot.type, id: snapshot.id, time: snapshot.time };

  const fetchPage = async (path: string, offset: number) => {
    try {
      const req = { snapshot: ref, path, offset, limit: PAGE };
      const page = remote
        ? await client.browseRemoteSnapshot({ remote, ...req })
        : await client.browseSnapshot({ store, ...req });
      const known = loaded.current.get(path)?.entries ?? [];
      if (known.length !== offset) return; // an answer that no longer fits (reloaded meanwhile)
      loaded.current = new Map(loaded.current).set(path, { entries: [...known, ...page.entries], total: page.total });
      setChildren(loaded.current);
      setError(undefined);
    } catch (err) {
      setError(errorInfo(err));
    }
  };

  const load = useCallback(
    (path: string, offset: number): Promise<void> => {
      const key = `${path}\0${offset}`;
      const running = inFlight.current.get(key);
      if (running) return running;
      const done = fetchPage(path, offset).finally(() => inFlight.current.delete(key));
      inFlight.current.set(key, done);
      return done;
    },
    [client, store, remote, snapshot.path],
  );

  useEffect(() => {
    void load('', 0);
  }, [load]);

  const toggle = (entry: EntryRow) => {
    const next = new Set(expanded);
    if (next.has(entry.path)) next.delete(entry.path);
    else {
      next.add(entry.path);
      if (!children.has(entry.path)) void load(entry.path, 0);
    }
    setExpanded(next);
  };

  /** The entry at `path` in the folder `folder`, loading the folder's pages until it is there (or is not). */
  const findIn = async (folder: string, path: string): Promise<EntryRow | undefined> => {
    for (;;) {
      const known = loaded.current.get(folder);
      const hit = known?.entries.find((e) => e.path === path);
      if (hit || (known && known.entries.length >= known.total)) return hit;
      const before = known?.entries.length ?? 0;
      await load(folder, before);
      if ((loaded.current.get(folder)?.entries.length ?? 0) === before) return undefined; // it failed
    }
  };

  const reveal = async (path: string): Promise<EntryRow | undefined> => {
    const parts = path.split('/').filter((p) => p.length > 0);
    const folders = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    let entry: EntryRow | undefined;
    for (const [i, folder] of ['', ...folders].entries()) {
      entry = await findIn(folder, folders[i] ?? parts.join('/'));
      if (!entry) return undefined;
    }
    setExpanded((prev) => new Set([...prev, ...folders]));
    return entry;
  };

  const lines = useMemo(() => visibleLines(children, expanded), [children, expanded]);
  return {
    lines,
    expanded,
    toggle,
    loadMore: (path, offset) => void load(path, offset),
    reveal,
    empty: children.get('')?.total === 0,
    error,
    setError,
  };
}

function visibleLines(children: Map<string, LoadedFolder>, expanded: Set<string>): TreeLine[] {
  const out: TreeLine[] = [];
  const walk = (path: string, depth: number) => {
    const folder = children.get(path);
    if (!folder) return;
    for (const entry of folder.entries) {
      out.push({ kind: 'entry', entry, depth });
      if (entry.kind === 'directory' && expanded.has(entry.path)) walk(entry.path, depth + 1);
    }
    if (folder.entries.length < folder.total)
      out.push({ kind: 'more', folder: path, depth, loaded: folder.entries.length, total: folder.total });
  };
  walk('', 0);
  return out;
}
