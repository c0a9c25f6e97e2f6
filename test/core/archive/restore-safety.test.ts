import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { nsToTime } from '../../../core/archive/file-writer.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { cairn, useChildScripts } from '../../support/processes.js';
import { put, tmpFiles } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

describe('restore never writes through a symlink it did not create', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();
  const start = useChildScripts();

  it('a folder of the target swapped for a symlink while the restore runs: nothing is written outside (5 rounds)', async () => {
    const src = scratch('race-src');
    for (let i = 0; i < 3000; i++) put(src, `dir/f${String(i).padStart(4, '0')}.txt`, `file ${i}\n`.repeat(20));
    put(src, 'zz-last/after.txt', 'after the swap');
    const backup = await backupFolder(ds.store, src, { id: 'race' });
    for (let round = 0; round < 5; round++) {
      const work = scratch(`race-${round}`);
      const target = join(work, 'target');
      const outside = join(work, 'outside');
      mkdirSync(outside);
      // Another process waits for the restore to be well into dir/, then swaps dir/ for a symlink to outside/.
      const swapper = await start(`
        const { existsSync, readdirSync, renameSync, symlinkSync } = await import('node:fs');
        const dir = ${JSON.stringify(join(target, 'dir'))};
        ready({});
        for (;;) {
          try {
            if (readdirSync(dir).length >= ${100 + round * 400}) {
              renameSync(dir, dir + '.moved');
              symlinkSync(${JSON.stringify(outside)}, dir);
              break;
            }
          } catch { /* not there yet */ }
        }
        emit({ swapped: true });
        process.exit(0);
      `);
      const result = await restoreFolder(ds.store, backup.snapshot, target, { workers: round % 2 === 0 ? 2 : 0 });
      await swapper.exited;
      expect(swapper.lines, `round ${round}: the swap happened`).toEqual([{ swapped: true }]);
      expect(readdirSync(outside), `round ${round}`).toEqual([]);
      expect(lstatSync(join(target, 'dir')).isSymbolicLink()).toBe(true);
      // Each file went into the folder the restore made (moved aside by the swapper), or is named as not restored
      // because the folder it was to go into is a symlink now; the rest of the tree is restored.
      const landed = readdirSync(join(target, 'dir.moved')).filter((n) => n.endsWith('.txt')).length;
      expect(landed + result.failedCount, `round ${round}`).toBe(3000);
      for (const f of result.failed) expect(f.message).toMatch(/dir: it is a symlink|dir was replaced or moved/);
      expect(existsSync(join(target, 'zz-last/after.txt'))).toBe(true);
    }
  });

  it('restores a tree whose paths under the target are longer than PATH_MAX (4096 bytes) whole', async () => {
    const src = scratch('deep-src');
    // 15 levels of 200-byte names: ~3 KB below the source, ~4.3 KB below a target 1.3 KB deep.
    const levels = Array.from({ length: 15 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(198)}`);
    put(src, join(...levels, 'leaf.txt'), 'at the bottom');
    put(src, 'top.txt', 'at the top');
    const backup = await backupFolder(ds.store, src, { id: 'deep' });
    let target = scratch('deep-target');
    for (let i = 0; i < 6; i++) target = join(target, `${'t'.repeat(200)}${i}`);
    mkdirSync(target, { recursive: true });
    expect(Buffer.byteLength(join(target, ...levels, 'leaf.txt'))).toBeGreaterThan(4096);

    const result = await restoreFolder(ds.store, backup.snapshot, target);
    expect(result.failed).toEqual([]);
    expect(result.filesRestored).toBe(2);
    // GNU find walks by descriptors, and -execdir reads the file by its own name: no path is ever that long.
    const found = execFileSync('find', [target, '-name', 'leaf.txt', '-execdir', 'cat', '{}', ';'], {
      encoding: 'utf8',
    });
    expect(found).toBe('at the bottom');
  });

  it('sets mtimes as close as Node allows: within 120 ns (it was 245), exactly where a double holds them', () => {
    const path = join(scratch('mtimes'), 'f');
    writeFileSync(path, '');
    let worst = 0n;
    let seed = 12345;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const times = [1_700_000_000_500_000_000n, 1_700_000_000_000_000_000n, 0n];
    for (let i = 0; i < 400; i++)
      times.push(
        BigInt(Math.floor(1_000_000_000 + random() * 1_100_000_000)) * 1_000_000_000n +
          BigInt(Math.floor(random() * 1e9)),
      );
    for (const ns of times) {
      const t = nsToTime(ns);
      utimesSync(path, t, t);
      const got = statSync(path, { bigint: true }).mtimeNs;
      const error = got > ns ? got - ns : ns - got;
      if (error > worst) worst = error;
      if (ns % 500_000_000n === 0n) expect(got, `exact for ${ns}`).toBe(ns);
    }
    expect(worst).toBeLessThanOrEqual(120n);
  });
});

describe('a killed restore leaves nothing a rerun does not clean up', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();

  async function killWhenTmpAppears(args: string[], where: string): Promise<void> {
    const { spawn } = await import('node:child_process');
    const { CLI } = await import('../../support/processes.js');
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    const gone = new Promise((r) => child.once('exit', r));
    const deadline = Date.now() + 20_000;
    while (tmpFiles(where).length === 0 && Date.now() < deadline && child.exitCode === null)
      await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await gone;
  }

  it('folder and image restores killed while writing: a successful rerun removes their tmp files', async () => {
    const src = scratch('killed-src');
    for (let i = 0; i < 4; i++) put(src, `big/${i}.bin`, pseudoRandomBytes(40 * 1024 * 1024, `killed-${i}`));
    const backup = await backupFolder(ds.store, src, { id: 'killed' });
    const target = scratch('killed-target');
    let left = 0;
    for (let round = 0; round < 3 && left === 0; round++) {
      await killWhenTmpAppears(['restore', ds.root, backup.path, '--to', target], target);
      left = tmpFiles(target).length;
    }
    expect(left, 'a killed restore left a tmp file').toBeGreaterThan(0);
    const rerun = await cairn(['restore', ds.root, backup.path, '--to', target, '--overwrite']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(tmpFiles(target)).toEqual([]);

    const image = join(scratch('killed-img'), 'disk.img');
    writeFileSync(image, pseudoRandomBytes(160 * 1024 * 1024, 'killed-img'));
    const img = await cairn(['backup-image', ds.root, image, '--id', 'killed-img', '--json']);
    expect(img.code, img.stderr).toBe(0);
    const out = scratch('killed-img-out');
    await killWhenTmpAppears(
      ['restore-image', ds.root, (JSON.parse(img.stdout) as { path: string }).path, '--to', join(out, 'disk.img')],
      out,
    );
    expect(tmpFiles(out).length).toBeGreaterThan(0);
    const again = await cairn([
      'restore-image',
      ds.root,
      (JSON.parse(img.stdout) as { path: string }).path,
      '--to',
      join(out, 'disk.img'),
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(readdirSync(out)).toEqual(['disk.img']);
  });
});
