import { lstatSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CairnError, errnoCode, ioError } from '../errors.js';

/**
 * `mkdir -p`, one level at a time from the nearest folder that exists. Node's own recursive mkdir loops forever
 * where mkdir answers ENOENT for a parent that exists (`/proc`, some network filesystems): here every level is
 * made once, and a parent that is not a folder, or a level that cannot be made, is a clear error.
 */
export function makeDirectories(path: string, mode = 0o755): void {
  const missing: string[] = [];
  let at = path;
  for (;;) {
    let st;
    try {
      st = lstatSync(at, { throwIfNoEntry: false });
    } catch (err) {
      // ENOTDIR: a file stands further up; the walk goes on to it and names it.
      if (errnoCode(err) !== 'ENOTDIR') throw ioError('make the folder', path, err);
    }
    if (st) {
      if (!st.isDirectory() && !(st.isSymbolicLink() && at !== path)) {
        throw new CairnError('IO', `cannot make ${path}: ${at} exists and is not a folder`);
      }
      break;
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EEXIST' && lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) continue;
      if (code === 'ENOENT')
        throw new CairnError(
          'INVALID_ARGUMENT',
          `cannot make the folder ${dir}: the filesystem there does not allow it`,
          { cause: err },
        );
      throw ioError('make the folder', dir, err);
    }
  }
}
