import { lstatSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CairnError } from '../errors.js';

/**
 * Whether `path`, a path below `root`, is reached without passing a symlink: its real path is `root`'s real
 * path joined with the rest. Everything Cairn deletes or moves in a store is checked this way first, so a
 * symlink planted in the store (a `.chunks/xxxx`, a `host/`) never leads a deletion outside it.
 */
export function isReachedWithoutSymlink(root: string, path: string): boolean {
  try {
    return realpathSync(path) === join(realpathSync(root), relative(root, path));
  } catch {
    return false; // vanished, or unreadable: not ours to touch
  }
}

/** Throws PATH_NOT_ALLOWED, naming where the symlink leads, unless `path` is reached without one. */
export function assertReachedWithoutSymlink(root: string, path: string, action: string): void {
  if (isReachedWithoutSymlink(root, path)) return;
  let real = '';
  try { real = realpathSync(path); } catch { /* gone */ }
  throw new CairnError('PATH_NOT_ALLOWED', `refusing to ${action} ${path}: it is reached through a symlink${real ? ` (it leads to ${real})` : ''}; `
    + 'Cairn never follows a symlink inside a datastore');
}

/** Whether `path` is a real folder (not a symlink to one). */
export function isRealDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
