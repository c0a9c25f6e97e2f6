import { existsSync, realpathSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { AppError } from './app-errors.js';

/** Where the renderer may point the host by default: the user's files and removable media. */
export function defaultAllowedRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  const extra = (env.CAIRN_ALLOWED_ROOTS ?? '').split(delimiter).filter((p) => p.length > 0);
  return [homedir(), '/media', '/mnt', '/run/media', tmpdir(), ...extra];
}

/**
 * Paths from the renderer are untrusted: each is made absolute, its symlinks resolved as far as it exists, and
 * it must lie under one of the allowed roots. Anything else is PATH_NOT_ALLOWED.
 */
export class PathPolicy {
  readonly roots: string[];

  constructor(roots: readonly string[]) {
    this.roots = [...new Set(roots.map((r) => realOrSelf(resolve(r))))];
  }

  /** The checked, absolute, symlink-resolved path. `~` means the home folder. */
  check(path: string, what: string): string {
    const expanded = path === '~' ? homedir() : path.startsWith('~/') ? join(homedir(), path.slice(2)) : path;
    if (!isAbsolute(expanded)) throw new AppError('PATH_NOT_ALLOWED', `${what} must be an absolute path: ${path}`);
    const real = resolveExisting(resolve(expanded));
    if (!this.roots.some((root) => isInside(real, root))) {
      throw new AppError(
        'PATH_NOT_ALLOWED',
        `${what} ${path} is outside the folders Cairn may use (${this.roots.join(', ')})`,
      );
    }
    return real;
  }

  isAllowed(path: string): boolean {
    return this.roots.some((root) => isInside(resolveExisting(resolve(path)), root));
  }
}

export function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Resolves symlinks in the part of the path that exists; the missing tail is appended as written. */
function resolveExisting(path: string): string {
  let head = path;
  const tail: string[] = [];
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) break;
    tail.unshift(basename(head));
    head = parent;
  }
  return join(realOrSelf(head), ...tail);
}
