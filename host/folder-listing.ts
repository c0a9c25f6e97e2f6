import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FolderListing } from '../contract/model.js';
import { ioError } from '../core/errors.js';
import type { PathPolicy } from './path-policy.js';

/** The most files one listing names (a folder of photos may hold 50,000; an image is found by its name). */
export const MAX_LISTED_FILES = 2000;

/**
 * One folder's subfolders, for the in-app folder browser (browser mode cannot show a native dialog), and its
 * files when `withFiles` (choosing a disk image).
 */
export function listFolder(policy: PathPolicy, path: string, withFiles = false): FolderListing {
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
    .filter((e) => !e.name.startsWith('.') && (e.isDirectory() || (e.isSymbolicLink() && isDirectory(join(dir, e.name)))))
    .map((e) => ({ name: e.name, path: join(dir, e.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const parent = dirname(dir);
  const files = entries.filter((e) => e.isFile());
  const listing: FolderListing = { path: dir, parent: parent !== dir && policy.isAllowed(parent) ? parent : undefined, folders, fileCount: files.length };
  if (!withFiles) return listing;
  const visible = files.map((e) => e.name).filter((n) => !n.startsWith('.')).sort((a, b) => a.localeCompare(b));
  return { ...listing, files: visible.slice(0, MAX_LISTED_FILES).map((name) => fileRow(dir, name)), filesTruncated: visible.length > MAX_LISTED_FILES };
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
