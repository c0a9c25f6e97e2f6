import { chmodSync, lstatSync, mkdirSync, realpathSync } from 'node:fs';
import module from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import envPaths from 'env-paths';

/**
 * Turns on Node's on-disk compile cache (V8 code of the modules) for this process and, through
 * NODE_COMPILE_CACHE, the worker threads and child processes it starts: a short command spends much of its time
 * compiling the CLI's modules, and every worker of a backup or restore compiles its own again (~0.1 s of a
 * restore's 1.5 s, measured). Returns the folder, or undefined when the cache stays off; it never throws (a cache
 * is an optimization: a home that cannot be read or written runs without one).
 *
 * The folder is the user's cache folder (`$XDG_CACHE_HOME/cairn/compile-cache`, mode 0700), never the shared
 * default under /tmp: compiled code from a folder someone else can write would run as whoever runs Cairn, root
 * too. So every folder from it up to `/` must be owned by this user or root and writable by no one else (a sudo
 * that keeps the user's HOME gets no cache). NODE_DISABLE_COMPILE_CACHE=1 turns it off. A NODE_COMPILE_CACHE set
 * when the process started was already taken by Node itself, as given; one that fails the check is at least not
 * handed on to the workers and child processes.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // module.enableCompileCache is Node 22.1 and later.
  if (typeof module.enableCompileCache !== 'function' || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  try {
    const directory = env.NODE_COMPILE_CACHE || join(envPaths('cairn', { suffix: '' }).cache, 'compile-cache');
    const enabled = trustedFolder(directory) && module.enableCompileCache(directory).directory;
    if (enabled) env.NODE_COMPILE_CACHE = enabled;
    else delete env.NODE_COMPILE_CACHE;
    return enabled || undefined;
  } catch {
    delete env.NODE_COMPILE_CACHE;
    return undefined;
  }
}

/** Makes the cache folder (0700) if every folder above it is trusted, and says whether it is trusted then. */
function trustedFolder(directory: string): boolean {
  // Checked before the folders are made too: nothing is created in a home that is not this user's.
  if (!ownedAllTheWay(directory)) return false;
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  // One made before, by hand or with another umask; changed only then (a chmod on every start is a write).
  if ((lstatSync(directory).mode & 0o777) !== 0o700) chmodSync(directory, 0o700);
  return ownedAllTheWay(directory);
}

/**
 * Whether `path` and every folder above it are folders that only this user or root can change, as they really
 * are (symlinks on the way, such as /home → /var/home, resolved first); a part not made yet counts as this
 * user's. An error on the way (a folder this user may not look into) is not trusted.
 */
export function ownedAllTheWay(path: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return true; // Windows: the user's profile folder is private by default
  try {
    const start = realPath(resolve(path));
    for (let at = start; ; at = dirname(at)) {
      const st = lstatSync(at, { throwIfNoEntry: false });
      if (st) {
        const trusted = st.isDirectory() && (st.uid === uid || st.uid === 0) && (st.mode & 0o022) === 0;
        // Above it, a shared folder such as /tmp (root's, sticky): no one else can move what is in it.
        const sharedSticky = st.isDirectory() && st.uid === 0 && (st.mode & 0o1000) !== 0;
        if (!trusted && !(sharedSticky && at !== start)) return false;
      }
      if (dirname(at) === at) return true;
    }
  } catch {
    return false;
  }
}

/** The real path of the nearest part of `path` that exists, with the parts not made yet after it. */
function realPath(path: string): string {
  const missing: string[] = [];
  for (let at = path; ; at = dirname(at)) {
    if (lstatSync(at, { throwIfNoEntry: false })) return join(realpathSync(at), ...missing.reverse());
    if (dirname(at) === at) return path;
    missing.push(basename(at));
  }
}
