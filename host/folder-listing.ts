import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { FolderListing } from '../contract/model.js';
import { CairnError, errnoCode, ioError } from '../core/errors.js';
import type { PathPolicy } from './path-policy.js';

/** The most files one listing names (a folder of photos may hold 50,000; an image is found by its name). */
export const MAX_LISTED_FILES = 2000;

/**
 * One folder's subfolders, for the in-app folder browser (browser mode cannot show a native dialog), and its
 * files when `withFiles` (choosing a disk image).
 */
export function listFolder(policy: PathPolicy, path: string, withFiles = false, hidden = false): FolderListing {
  const checked = policy.check(path, 'folder');
  // Choosing a file starts from the one in the field: its folder is listed.
  const dir = withFiles && statSync(checked, { throwIfNoEntry: false })?.isFile() ? dirname(checked) : checked;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw ioError('list', dir, err);
  }
  const folders = entries
    .filter(
      (e) =>
        (hidden || !e.name.startsWith('.')) &&
        (e.isDirectory() || (e.isSymbolicLink() && isDirectory(join(dir, e.name)))),
    )
    .map((e) => ({ name: e.name, path: join(dir, e.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const parent = dirname(dir);
  const files = entries.filter((e) => e.isFile());
  const listing: FolderListing = {
    path: dir,
    parent: parent !== dir && policy.isAllowed(parent) ? parent : undefined,
    folders,
    fileCount: files.length,
    places: places(policy),
  };
  if (!withFiles) return listing;
  const visible = files
    .map((e) => e.name)
    .filter((n) => hidden || !n.startsWith('.'))
    .sort((a, b) => a.localeCompare(b));
  return {
    ...listing,
    files: visible.slice(0, MAX_LISTED_FILES).map((name) => fileRow(dir, name)),
    filesTruncated: visible.length > MAX_LISTED_FILES,
  };
}

/** The allowed roots that exist, to jump to: the home folder, drives under /media and /mnt, the temp folder, … */
function places(policy: PathPolicy): { name: string; path: string }[] {
  return policy.roots.filter((root) => isDirectory(root)).map((root) => ({ name: basename(root) || root, path: root }));
}

/**
 * Makes one new folder inside an allowed folder (the folder browser's "New folder"), and lists it. The name is
 * one plain name: no separator, not "." or "..", not empty; an existing name is ALREADY_EXISTS.
 */
export function makeFolder(policy: PathPolicy, parent: string, name: string, withFiles = false): FolderListing {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new CairnError('INVALID_NAME', `"${name}" is not a folder name (one name, without / or \\)`);
  }
  const dir = policy.check(parent, 'folder');
  const path = join(dir, name);
  try {
    mkdirSync(path);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw new CairnError('ALREADY_EXISTS', `${path} already exists`);
    throw ioError('make the folder', path, err);
  }
  return listFolder(policy, path, withFiles);
}

function fileRow(dir: string, name: string): { name: string; path: string; size: number } {
  const path = join(dir, name);
  return { name, path, size: statSync(path, { throwIfNoEntry: false })?.size ?? 0 };
}

function isDirectory(path: string): boolean {
  try {
    return readdirSync(path) !== undefined;
  } catch {
    return false;
  }
}
