import { lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
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
  try {
    real = realpathSync(path);
  } catch {
    /* gone */
  }
  throw new CairnError(
    'PATH_NOT_ALLOWED',
    `refusing to ${action} ${path}: it is reached through a symlink${real ? ` (it leads to ${real})` : ''}; ` +
      'Cairn never follows a symlink inside a datastore',
  );
}

/** Whether `path` is a real folder (not a symlink to one). */
export function isRealDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The real path of `path`, also when its last parts do not exist yet (those are taken as they are). */
export function realPathOf(path: string): string {
  const rest: string[] = [];
  let at = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(at), ...rest);
    } catch {
      const parent = dirname(at);
      if (parent === at) return resolve(path);
      rest.unshift(basename(at));
      at = parent;
    }
  }
}

/** Whether `inner` is `outer` or lies inside it, by real paths (symlinks on the way resolved). */
export function isSameOrInside(outer: string, inner: string): boolean {
  const rel = relative(realPathOf(outer), realPathOf(inner));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** A restore goes to a place that is named, and never into the store itself. */
export function assertRestoreTarget(storeRoot: string, target: string): void {
  if (target.trim() === '')
    throw new CairnError('INVALID_ARGUMENT', 'the restore target is empty: name a folder to restore into');
  if (isSameOrInside(storeRoot, target)) {
    throw new CairnError(
      'PATH_NOT_ALLOWED',
      `cannot restore into ${resolve(target)}: it is inside the datastore ${storeRoot}`,
    );
  }
}
