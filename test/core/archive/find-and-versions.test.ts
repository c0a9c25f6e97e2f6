import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findEntries } from '../../../core/archive/find-entries.js';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { pathVersions } from '../../../core/archive/path-versions.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { put } from '../../support/tree.js';

const GROUP = { type: 'host' as const, id: 'work' };

describe('versions of a path, and find', () => {
  const temp = useTempDirs();

  async function setup(crypt?: CryptConfig) {
    const dir = temp('find', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const src = join(dir, 'work');
    const backup = () => backupFolder(store, src, { crypt });
    return { store, src, backup };
  }

  it('lists every version of a file by content, across changes, a deletion, a re-creation and a rename', async () => {
    const { store, src, backup } = await setup();
    put(src, 'report.txt', 'v1');
    put(src, 'other.txt', 'x');
    await backup(); // 1: v1
    put(src, 'other.txt', 'y');
    await backup(); // 2: v1 again (unchanged)
    writeFileSync(join(src, 'report.txt'), 'v2');
    await backup(); // 3: v2
    // Only the mtime changes: the same content is the same version.
    utimesSync(join(src, 'report.txt'), 1_600_000_000, 1_600_000_000);
    await backup(); // 4: v2
    rmSync(join(src, 'report.txt'));
    await backup(); // 5: absent
    put(src, 'report.txt', 'v1');
    await backup(); // 6: v1 re-created
    renameSync(join(src, 'report.txt'), join(src, 'renamed.txt'));
    await backup(); // 7: absent under the old name
    const result = pathVersions(store, GROUP, 'report.txt');
    expect(result.versions.map((v) => [v.state, v.snapshots, v.size, v.changed])).toEqual([
      ['present', 2, 2, false],
      ['present', 2, 2, true],
      ['absent', 1, undefined, false],
      ['present', 1, 2, true],
      ['absent', 1, undefined, false],
    ]);
    const snaps = store.listSnapshots(GROUP);
    expect(result.versions[0]).toMatchObject({ from: snaps[0]!.path, to: snaps[1]!.path });
    expect(result.versions[0]!.digest).toBe(result.versions[3]!.digest);
    expect(pathVersions(store, GROUP, 'renamed.txt').versions.map((v) => v.state)).toEqual(['absent', 'present']);
  });

  it('reads an encrypted group only with its key, naming the snapshots it could not read', async () => {
    const crypt = new CryptConfig(randomBytes(32));
    const { store, src, backup } = await setup(crypt);
    put(src, 'secret.txt', 'a');
    await backup();
    expect(pathVersions(store, GROUP, 'secret.txt', { keys: crypt }).versions).toHaveLength(1);
    const blind = pathVersions(store, GROUP, 'secret.txt');
    expect(blind.versions).toEqual([]);
    expect(blind.unreadable[0]!.message).toMatch(/encrypted with the key/);
  });

  it('finds by substring and glob in any case, by size and date, odd names included', async () => {
    const { store, src, backup } = await setup();
    put(src, 'Photos/Holiday-2024/IMG_0001.JPG', Buffer.alloc(3000, 1));
    put(src, 'Photos/Holiday-2024/img_0002.jpg', Buffer.alloc(10, 2));
    put(src, 'Docs/Report Final.PDF', 'pdf');
    put(src, 'Docs/caf\u00e9 notes.txt', 'cafe');
    writeFileSync(Buffer.from(join(src, 'Docs/raw-\xff-name.bin'), 'latin1'), 'not utf-8');
    utimesSync(join(src, 'Docs/Report Final.PDF'), 1_500_000_000, 1_500_000_000);
    const { snapshot } = await backup();
    const reader = new FolderArchiveReader(store.openSnapshot(snapshot));
    const paths = (pattern: string, extra = {}) =>
      [...findEntries(reader, { pattern, ...extra })].map((f) => f.path).sort();
    expect(paths('img_')).toEqual(['/Photos/Holiday-2024/IMG_0001.JPG', '/Photos/Holiday-2024/img_0002.jpg']);
    expect(paths('*.jpg', { minSize: 100 })).toEqual(['/Photos/Holiday-2024/IMG_0001.JPG']);
    expect(paths('photos/**/*.jpg')).toHaveLength(2);
    expect(paths('report')).toEqual(['/Docs/Report Final.PDF']);
    expect(paths('*', { olderThan: Date.parse('2020-01-01') })).toEqual(['/Docs/Report Final.PDF']);
    expect(paths('CAFÉ')).toEqual(['/Docs/caf\u00e9 notes.txt']);
    expect(paths('\\xff')).toEqual(['/Docs/raw-\\xff-name.bin']);
    expect(paths('holiday')).toEqual(['/Photos/Holiday-2024']);
  });
});
