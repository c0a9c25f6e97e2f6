import { randomBytes } from 'node:crypto';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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

  it('puts files whose names are not UTF-8 back under their own bytes, also below such a folder', async () => {
    const dir = temp('inplace-bytes', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const src = join(dir, 'src');
    mkdirSync(src);
    const srcBytes = Buffer.from(src);
    const at = (...names: Buffer[]) => Buffer.concat([srcBytes, ...names.flatMap((n) => [Buffer.from('/'), n])]);
    const cafe = Buffer.from('caf\xe9.txt', 'latin1'); // "café.txt" in Latin-1: not UTF-8
    const folder = Buffer.from('m\xfcll', 'latin1');
    const inner = Buffer.from('\xff\\x.txt', 'latin1'); // a backslash too, as the shown name escapes it
    writeFileSync(at(cafe), 'latin-1 name');
    mkdirSync(at(folder));
    writeFileSync(at(folder, inner), 'below an odd folder');
    writeFileSync(join(src, 'plain.txt'), 'plain');
    for (const p of [at(cafe), at(folder, inner), Buffer.from(join(src, 'plain.txt'))])
      utimesSync(p, 1_700_000_000, 1_700_000_000);
    const { snapshot } = await backupFolder(store, src);
    // What was there: unchanged. Nothing may be written beside it under its shown name.
    const preview = await restoreInPlace(store, snapshot, { conflict: 'keep-both', dryRun: true, now: NOW });
    expect(Object.fromEntries(preview.items.map((i) => [i.archivePath, i.action]))).toEqual({
      '/caf\\xe9.txt': 'unchanged',
      '/m\\xfcll/\\xff\\\\x.txt': 'unchanged',
      '/plain.txt': 'unchanged',
    });
    rmSync(at(cafe));
    rmSync(at(folder), { recursive: true });
    const done = await restoreInPlace(store, snapshot, { conflict: 'keep-both', now: NOW });
    expect(done.counts).toMatchObject({ restore: 2, unchanged: 1 });
    expect(readFileSync(at(cafe), 'utf8')).toBe('latin-1 name');
    expect(readFileSync(at(folder, inner), 'utf8')).toBe('below an odd folder');
    expect(
      readdirSync(srcBytes, { encoding: 'buffer' })
        .map((n) => n.toString('latin1'))
        .sort(),
    ).toEqual(['caf\xe9.txt', 'm\xfcll', 'plain.txt'].sort());
    // Selecting the odd folder by its shown name restores it under its bytes too.
    rmSync(at(folder), { recursive: true });
    const one = await restoreInPlace(store, snapshot, { conflict: 'skip', path: 'm\\xfcll', now: NOW });
    expect(one.counts.restore).toBe(1);
    expect(readFileSync(at(folder, inner), 'utf8')).toBe('below an odd folder');
  });

  it('a keep-both copy of a file whose name is not UTF-8 keeps its bytes', async () => {
    const dir = temp('inplace-bytes-keep', storeTempRoot());
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const src = join(dir, 'src');
    mkdirSync(src);
    const file = Buffer.concat([Buffer.from(`${src}/`), Buffer.from('r\xe9sum\xe9.txt', 'latin1')]);
    writeFileSync(file, 'as backed up');
    utimesSync(file, 1_700_000_000, 1_700_000_000);
    const { snapshot } = await backupFolder(store, src);
    writeFileSync(file, 'changed, dated before');
    utimesSync(file, 1_600_000_000, 1_600_000_000);
    const done = await restoreInPlace(store, snapshot, { conflict: 'keep-both', now: NOW });
    expect(done.counts['keep-both']).toBe(1);
    expect(done.items[0]!.restoredAs).toBe(join(src, 'r\\xe9sum\\xe9 (restored 2026-12-01).txt'));
    const kept = Buffer.concat([
      Buffer.from(`${src}/`),
      Buffer.from('r\xe9sum\xe9 (restored 2026-12-01).txt', 'latin1'),
    ]);
    expect(readFileSync(kept, 'utf8')).toBe('as backed up');
    expect(readFileSync(file, 'utf8')).toBe('changed, dated before');
  });

  it('moves files into a folder on another filesystem by copying them, mode, times and symlinks kept', async () => {
    const onShm = temp('inplace-shm', storeTempRoot());
    const onDisk = temp('inplace-disk'); // the ordinary temp dir: another filesystem than /dev/shm, when it is there
    const store = await Datastore.create(join(onShm, 'store'), { syncLevel: 'none' });
    const first = join(onShm, 'a-first');
    const second = join(onDisk, 'b-second');
    put(first, 'one.txt', 'on the first');
    const odd = Buffer.concat([Buffer.from(`${second}/`), Buffer.from('n\xe4me.sh', 'latin1')]);
    mkdirSync(second);
    writeFileSync(odd, '#!/bin/sh\n', { mode: 0o751 });
    utimesSync(odd, 1_700_000_000, 1_700_000_000.987654); // a fraction: the copy must keep it to the millisecond
    symlinkSync('one.txt', join(second, 'link'));
    put(second, 'shared.txt', 'as backed up');
    utimesSync(join(second, 'shared.txt'), 1_600_000_000, 1_600_000_000);
    const { snapshot } = await backupFolder(store, [first, second], { id: 'both' });
    rmSync(join(first, 'one.txt'));
    rmSync(odd);
    rmSync(join(second, 'link'));
    const done = await restoreInPlace(store, snapshot, { conflict: 'skip', now: NOW });
    expect(done.counts.restore).toBe(3);
    expect(readFileSync(join(first, 'one.txt'), 'utf8')).toBe('on the first');
    const st = lstatSync(odd);
    expect(st.mode & 0o7777).toBe(0o751);
    expect(Math.floor(st.mtimeMs / 1000)).toBe(1_700_000_000);
    expect(readlinkSync(join(second, 'link'))).toBe('one.txt');
    expect(readdirSync(onShm).filter((n) => n.startsWith('.cairn-restore'))).toEqual([]);
    expect(readdirSync(first).filter((n) => n.startsWith('.cairn-restore'))).toEqual([]);
    // Copied back to the millisecond: a second look finds everything as backed up.
    const again = await restoreInPlace(store, snapshot, { conflict: 'skip', dryRun: true, now: NOW });
    expect(again.counts.unchanged).toBe(again.items.length);

    // What is there now is replaced, never written through: a symlink to a file elsewhere, a hardlinked file.
    const victim = put(onDisk, 'elsewhere/victim.txt', 'not to be touched');
    rmSync(odd);
    symlinkSync(victim, odd);
    writeFileSync(join(second, 'shared.txt'), 'edited, dated before');
    utimesSync(join(second, 'shared.txt'), 1_500_000_000, 1_500_000_000);
    linkSync(join(second, 'shared.txt'), join(onDisk, 'elsewhere', 'other-link.txt'));
    const over = await restoreInPlace(store, snapshot, { conflict: 'overwrite', overwriteNewer: true, now: NOW });
    expect(over.counts.overwrite).toBe(2);
    expect(readFileSync(victim, 'utf8')).toBe('not to be touched');
    expect(lstatSync(odd).isFile()).toBe(true);
    expect(readFileSync(odd, 'utf8')).toBe('#!/bin/sh\n');
    expect(readFileSync(join(second, 'shared.txt'), 'utf8')).toBe('as backed up');
    expect(readFileSync(join(onDisk, 'elsewhere', 'other-link.txt'), 'utf8')).toBe('edited, dated before');
    expect(readdirSync(second).filter((n) => n.includes('.cairn-'))).toEqual([]);
  });
});
