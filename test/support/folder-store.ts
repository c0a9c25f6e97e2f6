import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Datastore } from '../../core/datastore/datastore.js';

/**
 * Where stores live. Creating one is 65,536 mkdirs: ~11 s on this VM's ext4 /tmp, well under a second on a
 * tmpfs. The code paths are the same, so prefer /dev/shm when it is writable (as test/chunk-store.test.ts does).
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

/** One datastore per describe block (sync level 'none'): created in beforeAll, removed in afterAll. */
export function useDatastore(): { readonly store: Datastore; readonly root: string } {
  let base: string | undefined;
  let store: Datastore | undefined;
  beforeAll(async () => {
    base = mkdtempSync(join(storeTempRoot(), 'cairn-folder-test-'));
    store = await Datastore.create(join(base, 'store'), { syncLevel: 'none' });
  });
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });
  return {
    get store(): Datastore {
      if (!store) throw new Error('the datastore was not created (see beforeAll)');
      return store;
    },
    get root(): string {
      if (!store) throw new Error('the datastore was not created (see beforeAll)');
      return store.root;
    },
  };
}

/** Awaits `run` and checks it fails with a CairnError of this code (and a message matching `pattern`). */

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
