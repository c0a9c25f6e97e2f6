import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../../support/processes.js';
import { put, readTree, stampTimes } from '../../support/tree.js';
import { removeTree, storeTempRoot, tempDir } from '../../support/temp.js';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Folder attributes are set while the workers still write (folder-attributes.ts). As an ordinary user, whom a
 * folder's mode binds, a read-only folder and one its owner may not list come back with their files below them,
 * their modes and times.
 */
describe.runIf(asRoot)('a restore by an ordinary user', () => {
  const base = tempDir('restore-as-user', storeTempRoot());
  beforeAll(() => chmodSync(base, 0o777)); // the ordinary user makes its folders here
  afterAll(() => removeTree(base), 120_000);

  it('restores read-only folders and one its owner cannot list, with their files below, modes and times', () => {
    const src = join(base, 'src');
    // Enough files that the workers write them.
    for (let i = 0; i < 40; i++) put(src, `ro/a${i}.txt`, `a ${i}`);
    for (let i = 0; i < 40; i++) put(src, `ro/sub/b${i}.txt`, `b ${i}`);
    for (let i = 0; i < 30; i++) put(src, `wx/c${i}.txt`, `c ${i}`);
    for (let i = 0; i < 10; i++) put(src, `wx/deep/d${i}.txt`, `d ${i}`);
    chmodSync(join(src, 'ro'), 0o555);
    chmodSync(join(src, 'wx'), 0o311);
    stampTimes(src);
    const store = join(base, 'store');
    const root = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: '/' });
    expect(root(['init', store, '--sync', 'none']).status).toBe(0);
    expect(root(['backup', store, src, '--id', 'src']).status).toBe(0);
    expect(spawnSync('chmod', ['-R', 'a+rwX', store]).status).toBe(0); // the user takes the snapshot's lock
    const target = join(base, 'out');
    const r = spawnSync(
      'runuser',
      ['-u', 'nobody', '--', process.execPath, CLI, 'restore', store, 'host/src', '--to', target],
      {
        encoding: 'utf8',
        cwd: '/',
        env: { ...process.env, XDG_CACHE_HOME: join(base, 'nobody-cache') },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const want = readTree(src);
    const got = readTree(target);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [path, w] of want) {
      const g = got.get(path)!;
      expect(g.mode.toString(8), path).toBe(w.mode.toString(8));
      expect(g.mtimeNs - w.mtimeNs <= 1000n && w.mtimeNs - g.mtimeNs <= 1000n, path).toBe(true);
      if (w.kind === 'file') expect(readFileSync(g.path, 'utf8'), path).toBe(readFileSync(w.path, 'utf8'));
    }
    expect(lstatSync(join(target, 'wx')).mode & 0o777).toBe(0o311);
  });

  it('puts a deleted read-only folder back in place: the files leave the staging folder, which goes away', () => {
    const own = join(base, 'nobody-own');
    const src = join(own, 'src');
    for (let i = 0; i < 70; i++) put(src, `ro/a${i}.txt`, `a ${i}`);
    put(src, 'keep.txt', 'stays');
    chmodSync(join(src, 'ro'), 0o555);
    expect(spawnSync('chown', ['-R', 'nobody', own]).status).toBe(0);
    const asNobody = (args: string[]) =>
      spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, CLI, ...args], {
        encoding: 'utf8',
        cwd: '/',
        env: { ...process.env, XDG_CACHE_HOME: join(own, 'cache') },
      });
    const store = join(own, 'store');
    expect(asNobody(['init', store, '--sync', 'none']).status).toBe(0);
    expect(asNobody(['backup', store, src, '--id', 'src']).status).toBe(0);
    removeTree(join(src, 'ro')); // the user deleted the whole folder
    const r = asNobody(['restore', store, 'host/src', '--in-place']);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    for (let i = 0; i < 70; i++) expect(readFileSync(join(src, 'ro', `a${i}.txt`), 'utf8')).toBe(`a ${i}`);
    expect(readdirSync(src).sort()).toEqual(['keep.txt', 'ro']); // no staging folder left
  });
});
