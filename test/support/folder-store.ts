import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Datastore } from '../../core/datastore/datastore.js';
import { storeTempRoot, tempDir } from './temp.js';

/** One datastore per describe block (sync level 'none'): created in beforeAll, removed in afterAll. */
export function useDatastore(): { readonly store: Datastore; readonly root: string } {
  let base: string | undefined;
  let store: Datastore | undefined;
  beforeAll(async () => {
    base = tempDir('folder-test', storeTempRoot());
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
