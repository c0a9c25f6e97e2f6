import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownedAllTheWay } from '../../../core/cli/compile-cache.js';
import { cairn, CLI } from '../../support/processes.js';
import { put } from '../../support/tree.js';
import { tempDir } from '../../support/temp.js';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** The CLI's compile cache: in the user's own cache folder, used by its workers, never in a folder others can write. */
describe('compile cache', () => {
  let base = '';
  let store = '';

  beforeAll(async () => {
    base = tempDir('compile-cache');
    chmodSync(base, 0o755); // readable by the ordinary user of the last test, writable by no one else
    store = join(base, 'store');
    const src = join(base, 'src');
    // Enough files that a restore starts its workers.
    for (let i = 0; i < 80; i++) put(src, `d${i % 8}/f${i}.txt`, `file ${i}\n`);
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    expect((await cairn(['backup', store, src, '--id', 'src'])).code).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  /** The environment of a CLI run whose cache folder is `$XDG_CACHE_HOME/cairn/compile-cache`. */
  const cacheHome = (home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    XDG_CACHE_HOME: home,
    NODE_COMPILE_CACHE: undefined,
    NODE_DISABLE_COMPILE_CACHE: undefined,
    ...extra,
  });

  it('is made private in the user cache folder, and the restore workers load their code from it', async () => {
    const home = join(base, 'home-cache');
    const env = cacheHome(home, { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
    expect((await cairn(['groups', store], { env })).code).toBe(0);
    const folder = join(home, 'cairn', 'compile-cache');
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(readdirSync(folder).length).toBeGreaterThan(0);
    const first = await cairn(['restore', store, 'host/src', '--to', join(base, 'out-1')], { env });
    expect(first.code).toBe(0);
    const second = await cairn(['restore', store, 'host/src', '--to', join(base, 'out-2')], { env });
    expect(second.code).toBe(0);
    // Node's own trace of the cache: the second run's workers took the code the first run's left.
    expect(second.stderr).toMatch(/restore-worker\.js was accepted/);
  });

  it('makes a cache folder made before with a wider mode private', async () => {
    const home = join(base, 'wide-cache');
    const folder = join(home, 'cairn', 'compile-cache');
    mkdirSync(folder, { recursive: true, mode: 0o755 });
    chmodSync(folder, 0o755);
    expect((await cairn(['groups', store], { env: cacheHome(home) })).code).toBe(0);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(readdirSync(folder).length).toBeGreaterThan(0);
  });

  it('stays off under a folder that others can write, and the command runs as before', async () => {
    const open = join(base, 'open');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o777);
    const r = await cairn(['groups', store], { env: cacheHome(join(open, 'cache')) });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/host\/src/);
    expect(existsSync(join(open, 'cache'))).toBe(false); // nothing made there
  });

  it('stays off when NODE_DISABLE_COMPILE_CACHE is set', async () => {
    const home = join(base, 'disabled-cache');
    const r = await cairn(['groups', store], { env: cacheHome(home, { NODE_DISABLE_COMPILE_CACHE: '1' }) });
    expect(r.code).toBe(0);
    expect(existsSync(home)).toBe(false);
  });

  it('trusts a folder only if no one else can change it or a folder above it', () => {
    const own = join(base, 'own');
    mkdirSync(join(own, 'a'), { recursive: true, mode: 0o700 });
    expect(ownedAllTheWay(join(own, 'a'))).toBe(true);
    expect(ownedAllTheWay(join(own, 'a', 'not', 'made', 'yet'))).toBe(true);
    chmodSync(own, 0o770);
    expect(ownedAllTheWay(join(own, 'a'))).toBe(false); // the group could swap `a`
    expect(ownedAllTheWay(join(own, 'a', 'not', 'made', 'yet'))).toBe(false);
    chmodSync(own, 0o700);
    // A symlink counts as where it leads (/home → /var/home): to a trusted folder, or to one others can write.
    symlinkSync(join(own, 'a'), join(own, 'link'));
    expect(ownedAllTheWay(join(own, 'link', 'b'))).toBe(true);
    const open = join(base, 'open-target');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o777);
    symlinkSync(open, join(own, 'to-open'));
    expect(ownedAllTheWay(join(own, 'to-open', 'cache'))).toBe(false);
  });

  it.runIf(asRoot)('runs as a user whose cache folder lies in a home it may not look into (no cache, no crash)', () => {
    const home = join(base, 'private-home');
    mkdirSync(home, { mode: 0o700 }); // root's: nobody may not even lstat what is inside
    const r = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, CLI, 'groups', store], {
      encoding: 'utf8',
      cwd: '/',
      env: { PATH: process.env.PATH, XDG_CACHE_HOME: join(home, 'cache') }, // runuser sets HOME, not this
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/host\/src/);
  });

  it.runIf(asRoot)("refuses another user's folder, and allows a shared sticky folder of root's above", () => {
    const theirs = join(base, 'theirs');
    mkdirSync(join(theirs, 'cache'), { recursive: true, mode: 0o700 });
    chownSync(theirs, 1234, 1234);
    expect(ownedAllTheWay(join(theirs, 'cache'))).toBe(false); // as root under a user's HOME (sudo)
    const shared = join(base, 'shared');
    mkdirSync(join(shared, 'mine'), { recursive: true, mode: 0o700 });
    chmodSync(shared, 0o1777);
    expect(ownedAllTheWay(join(shared, 'mine'))).toBe(true); // as under /tmp
    expect(ownedAllTheWay(shared)).toBe(false); // but not the shared folder itself
  });
});
