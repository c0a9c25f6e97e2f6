import { accessSync, chmodSync, constants, lstatSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

// The one place tests make and remove temporary folders.

/**
 * Where stores live. Creating one is 65,536 mkdirs: ~11 s on this VM's ext4 /tmp, well under a second on a
 * tmpfs. The code paths are the same, so prefer /dev/shm when it is writable.
 */
export function storeTempRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    if (statSync('/dev/shm').isDirectory()) return '/dev/shm';
  } catch {
    /* no tmpfs: use the ordinary temp dir */
  }
  return tmpdir();
}

/** A new folder `cairn-<label>-XXXXXX` below `root` (the ordinary temp dir: a real disk, real inodes and ctimes). */
export function tempDir(label: string, root: string = tmpdir()): string {
  return mkdtempSync(join(root, `cairn-${label}-`));
}

/** Removes a tree, also when folders in it are read-only (as a non-root user could not otherwise). */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    /* a read-only folder inside: make them writable, then again */
  }
  const fix = (p: string): void => {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return;
    chmodSync(p, 0o700);
    for (const name of readdirSync(p)) fix(join(p, name));
  };
  try {
    fix(path);
  } catch {
    /* best effort: rmSync reports what is left */
  }
  rmSync(path, { recursive: true, force: true });
}

/** Fresh temp folders, one a call, removed after each test. */
export function useTempDirs(): (label?: string, root?: string) => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) removeTree(d);
  });
  return (label = 'test', root?: string) => {
    const d = tempDir(label, root);
    dirs.push(d);
    return d;
  };
}

/** One temp folder for a describe block: made in beforeAll, removed in afterAll; the getter throws before. */
export function useSuiteTempDir(label: string, root?: string): () => string {
  let dir: string | undefined;
  beforeAll(() => {
    dir = tempDir(label, root);
  });
  afterAll(() => {
    if (dir) removeTree(dir);
  });
  return () => {
    if (!dir) throw new Error(`the ${label} temp folder is made in beforeAll`);
    return dir;
  };
}
