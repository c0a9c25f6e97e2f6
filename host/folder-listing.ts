import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FolderListing } from '../contract/model.js';
import { ioError } from '../core/errors.js';
import type { PathPolicy } from './path-policy.js';

/** One folder's subfolders, for the in-app folder browser (browser mode cannot show a native dialog). */
export function listFolder(policy: PathPolicy, path: string): FolderListing {
  const dir = policy.check(path, 'folder');
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
  return {
    path: dir, parent: parent !== dir && policy.isAllowed(parent) ? parent : undefined, folders,
    fileCount: entries.filter((e) => e.isFile()).length,
  };
}

function isDirectory(path: string): boolean {
  try {
    return readdirSync(path) !== undefined;
  } catch {
    return false;
  }
}
