import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { SnapshotListCache } from '../../../core/datastore/snapshot-list-cache.js';
import { SnapshotViews } from '../../../host/store-views.js';
import { useDatastore } from '../../support/folder-store.js';
import { put } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

/** Folders changed in the last second are not remembered: let them settle. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1100));

describe('a group listed again takes unchanged snapshot folders from memory', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();
  const group = { type: 'host', id: 'listed' } as const;

  async function twoSnapshots(): Promise<void> {
    const src = scratch();
    put(src, 'a.txt', 'one');
    await backupFolder(ds.store, src, { id: 'listed' });
    put(src, 'a.txt', 'two');
    await backupFolder(ds.store, src, { id: 'listed' });
  }

  it('hands out the same info while a folder is unchanged, and a new one once a file comes or goes in it', async () => {
    await twoSnapshots();
    const cache = new SnapshotListCache();
    const fresh = ds.store.listSnapshots(group, cache);
    await settle();
    const first = ds.store.listSnapshots(group, cache); // remembered now that they settled
    const again = ds.store.listSnapshots(group, cache);
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    expect(first).toEqual(fresh);

    ds.store.setProtected(first[0]!, true); // a marker file in the folder
    const marked = ds.store.listSnapshots(group, cache);
    expect(marked[0]).not.toBe(first[0]);
    expect(marked[0]!.protected).toBe(true);
    expect(marked[1]).toBe(first[1]);
    ds.store.setProtected(first[0]!, false);
    expect(ds.store.listSnapshots(group, cache)[0]!.protected).toBe(false);

    // A folder that is new, and one not finished yet: seen as they are, never taken from memory.
    mkdirSync(join(ds.store.groupDir(group), '2030-01-01T00:00:00Z'));
    const withNew = ds.store.listSnapshots(group, cache);
    expect(withNew.at(-1)).toMatchObject({ path: 'host/listed/2030-01-01T00:00:00Z', finished: false });
    expect(withNew).toEqual(ds.store.listSnapshots(group));
  });

  it("the snapshots table's rows follow a changed manifest (notes), and stay the same objects otherwise", async () => {
    const views = new SnapshotViews();
    const before = views.snapshotRows(ds.store, group);
    await settle();
    const settled = views.snapshotRows(ds.store, group);
    expect(views.snapshotRows(ds.store, group)[0]).toBe(settled[0]);
    ds.store.setSnapshotNotes(settled[0]!, 'changed notes');
    const after = views.snapshotRows(ds.store, group);
    expect(after[0]!.notes).toBe('changed notes');
    expect(after[1]).toBe(settled[1]);
    expect(before.length).toBe(after.length);
  });
});
