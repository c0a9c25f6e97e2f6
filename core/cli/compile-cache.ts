import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import { dirname, join, resolve } from 'node:path';
import envPaths from 'env-paths';

/**
 * Turns on Node's on-disk compile cache (V8 code of the modules) for this process and, through
 * NODE_COMPILE_CACHE, the worker threads and child processes it starts: a short command spends much of its time
 * compiling the CLI's modules, and every worker of a backup or restore compiles its own again (~0.1 s of a
 * restore's 1.5 s, measured). Returns the folder, or undefined when the cache stays off.
 *
 * The folder is the user's cache folder (`$XDG_CACHE_HOME/cairn/compile-cache`), never the shared default under
 * /tmp: compiled code from a folder someone else can write would run as whoever runs Cairn, root too. So every
 * folder from it up to `/` must be owned by this user or root and writable by no one else (a sudo that keeps the
 * user's HOME gets no cache). NODE_COMPILE_CACHE chooses another folder, NODE_DISABLE_COMPILE_CACHE=1 turns it off
 * (Node's own switches).
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // module.enableCompileCache is Node 22.1 and later.
  if (typeof module.enableCompileCache !== 'function' || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const directory = env.NODE_COMPILE_CACHE || join(envPaths('cairn', { suffix: '' }).cache, 'compile-cache');
  // Checked before the folders are made too: nothing is created in a home that is not this user's.
  if (!ownedAllTheWay(directory)) return undefined;
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
  } catch {
    return undefined; // a cache is an optimization: a read-only home runs without it
  }
  if (!ownedAllTheWay(directory)) return undefined;
  const enabled = module.enableCompileCache(directory).directory;
  if (enabled) env.NODE_COMPILE_CACHE = enabled;
  return enabled;
}

/**
 * Whether `path` and every folder above it are real folders (no symlinks) that only this user or root can change;
 * a part not made yet counts as this user's.
 */
export function ownedAllTheWay(path: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return true; // Windows: the user's profile folder is private by default
  const start = resolve(path);
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
}
