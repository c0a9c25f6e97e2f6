import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { previewRestore } from '../../../core/archive/restore-preview.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { put } from '../../support/tree.js';

describe('the restore preview: what a restore into a folder would meet there', () => {
  const temp = useTempDirs();

  async function setup() {
    const dir = temp('restore-preview', storeTempRoot());
    const src = join(dir, 'docs');
    put(src, 'a.txt', 'alpha');
    put(src, 'notes/b.txt', 'beta');
    put(src, 'notes/c.txt', 'gamma');
    symlinkSync('a.txt', join(src, 'link'));
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const { snapshot } = await backupFolder(store, src, { id: 'docs' });
    const reader = new FolderArchiveReader(store.openSnapshot(snapshot));
    return { dir, store, snapshot, reader };
  }

  it('counts the files it adds, the ones there as backed up and the ones that differ, as the restore places them', async () => {
    const { dir, store, snapshot, reader } = await setup();
    const target = join(dir, 'restored');
    expect(await previewRestore(reader, [''], target)).toEqual({ added: 4, same: 0, differ: 0, differing: [] });
    await restoreFolder(store, snapshot, target);
    expect(await previewRestore(reader, [''], target)).toEqual({ added: 0, same: 4, differ: 0, differing: [] });
    writeFileSync(join(target, 'notes/b.txt'), 'changed since');
    rmSync(join(target, 'notes/c.txt'));
    rmSync(join(target, 'link'));
    symlinkSync('elsewhere', join(target, 'link'));
    utimesSync(join(target, 'a.txt'), new Date(2020, 0, 1), new Date(2020, 0, 1));
    expect(await previewRestore(reader, [''], target)).toEqual({
      added: 1,
      same: 0,
      differ: 3,
      differing: ['a.txt', 'link', 'notes/b.txt'],
    });
    // A folder chosen arrives under its name; a file straight into the target; a file in a folder's place differs.
    expect(await previewRestore(reader, ['/notes'], join(dir, 'other'))).toMatchObject({ added: 2, differ: 0 });
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'notes'), 'a file where the folder goes');
    expect(await previewRestore(reader, ['/notes', '/a.txt'], join(dir, 'other'))).toEqual({
      added: 1,
      same: 0,
      differ: 1,
      differing: ['notes/'],
    });
  });
});
