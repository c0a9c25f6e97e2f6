import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { keepBothName, restoreInPlace } from '../../../core/archive/in-place.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { put } from '../../support/tree.js';

const NOW = new Date('2026-12-01T10:00:00Z');

describe('restore in place', () => {
  const temp = useTempDirs();

  /** A folder backed up with times in the past, then changed: one file deleted, one edited before, one after. */
  async function setup() {
    const dir = temp('inplace', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const src = join(dir, 'Documents');
    put(src, 'keep.txt', 'as it was');
    put(src, 'deleted.txt', 'gone later');
    put(src, 'edited.txt', 'original');
    put(src, 'sub/deep.txt', 'deep');
    put(src, 'newer.txt', 'original too');
    for (const f of ['keep.txt', 'deleted.txt', 'edited.txt', 'sub/deep.txt', 'newer.txt'])
      utimesSync(join(src, f), 1_700_000_000, 1_700_000_000);
    const { snapshot } = await backupFolder(store, src);
    rmSync(join(src, 'deleted.txt'));
    rmSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'edited.txt'), 'edited, but dated before the backup');
    utimesSync(join(src, 'edited.txt'), 1_600_000_000, 1_600_000_000);
    writeFileSync(join(src, 'newer.txt'), 'edited after the backup'); // mtime: now, after the backup
    return { store, src, snapshot };
  }

  it('previews per file, then brings back what is missing and keeps both where files differ', async () => {
    const { store, src, snapshot } = await setup();
    const preview = await restoreInPlace(store, snapshot, { conflict: 'keep-both', dryRun: true, now: NOW });
    const byPath = Object.fromEntries(preview.items.map((i) => [i.archivePath, i.action]));
    expect(byPath).toEqual({
      '/keep.txt': 'unchanged',
      '/deleted.txt': 'restore',
      '/edited.txt': 'keep-both',
      '/sub/deep.txt': 'restore',
      '/newer.txt': 'newer-local',
    });
    expect(existsSync(join(src, 'deleted.txt'))).toBe(false); // a preview writes nothing
    const done = await restoreInPlace(store, snapshot, { conflict: 'keep-both', now: NOW });
    expect(done.counts).toMatchObject({ restore: 2, 'keep-both': 1, unchanged: 1, 'newer-local': 1 });
    expect(readFileSync(join(src, 'deleted.txt'), 'utf8')).toBe('gone later');
    expect(readFileSync(join(src, 'sub/deep.txt'), 'utf8')).toBe('deep');
    expect(readFileSync(join(src, 'edited.txt'), 'utf8')).toBe('edited, but dated before the backup');
    expect(readFileSync(join(src, 'edited (restored 2026-12-01).txt'), 'utf8')).toBe('original');
    expect(readFileSync(join(src, 'newer.txt'), 'utf8')).toBe('edited after the backup');
    // No staging folder is left behind.
    expect(readdirSync(src).filter((n) => n.startsWith('.cairn-restore'))).toEqual([]);
  });

  it('overwrites when asked, a newer local file only with overwriteNewer; skip leaves them', async () => {
    const { store, src, snapshot } = await setup();
    await restoreInPlace(store, snapshot, { conflict: 'skip' });
    expect(readFileSync(join(src, 'edited.txt'), 'utf8')).toBe('edited, but dated before the backup');
    await restoreInPlace(store, snapshot, { conflict: 'overwrite' });
    expect(readFileSync(join(src, 'edited.txt'), 'utf8')).toBe('original');
    expect(readFileSync(join(src, 'newer.txt'), 'utf8')).toBe('edited after the backup');
    await restoreInPlace(store, snapshot, { conflict: 'overwrite', overwriteNewer: true, path: 'newer.txt' });
    expect(readFileSync(join(src, 'newer.txt'), 'utf8')).toBe('original too');
  });

  it('refuses an encrypted snapshot, which does not record its folder', async () => {
    const dir = temp('inplace-enc', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const crypt = new CryptConfig(randomBytes(32));
    put(join(dir, 'src'), 'a.txt', 'a');
    const { snapshot } = await backupFolder(store, join(dir, 'src'), { crypt });
    await expect(restoreInPlace(store, snapshot, { conflict: 'skip', crypt })).rejects.toThrow(/restore it with --to/);
  });

  it('numbers a keep-both name that is taken', () => {
    const dir = temp('names');
    const path = join(dir, 'photo.jpg');
    writeFileSync(join(dir, 'photo (restored 2026-12-01).jpg'), 'x');
    expect(keepBothName(path, NOW)).toBe(join(dir, 'photo (restored 2026-12-01 2).jpg'));
    expect(keepBothName(join(dir, '.bashrc'), NOW)).toBe(join(dir, '.bashrc (restored 2026-12-01)'));
  });
});
