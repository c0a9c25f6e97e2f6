import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PBS_GC_STATUS } from '../../support/pbs-files.js';
import { cairn, CLI, expectCliError } from '../../support/processes.js';
import { put } from '../../support/tree.js';
import { tempDir, storeTempRoot } from '../../support/temp.js';

/** Mistakes and odd places a CLI user runs into: each is refused with a clear line, quickly, changing nothing. */
describe('cairn refuses what would hang, hide data or write where it must not', () => {
  let base = '';
  let store = '';
  let src = '';

  beforeAll(async () => {
    base = tempDir('refusals', storeTempRoot());
    store = join(base, 'store');
    src = join(base, 'src');
    put(src, 'a.txt', 'a');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    expect((await cairn(['backup', store, src, '--id', 'src'])).code).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('init where mkdir can never succeed (/proc) ends at once with a clear error (it spun at 100% CPU)', async () => {
    const r = await cairn(['init', '/proc/cairn-store'], { timeoutMs: 15_000 });
    expect(r.timedOut).toBe(false);
    expectCliError(r, /cannot make the folder \/proc\/cairn-store: the filesystem there does not allow it/);
  });

  it('a backup whose folder cannot be read fails and leaves no snapshot (it made an empty one)', () => {
    const unreadable = join(base, 'unreadable');
    put(unreadable, 'secret.txt', 'cannot be listed');
    chmodSync(unreadable, 0o000);
    // As root every folder can be read: run the backup as an ordinary user, with a store of its own.
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const own = join(base, 'nobody-store');
    const run = (args: string[]) =>
      spawnSync(
        asRoot ? 'runuser' : process.execPath,
        asRoot ? ['-u', 'nobody', '--', process.execPath, CLI, ...args] : [CLI, ...args],
        { encoding: 'utf8', cwd: '/' },
      );
    if (asRoot) chmodSync(base, 0o777);
    expect(run(['init', own, '--sync', 'none']).status).toBe(0);
    const r = run(['backup', own, unreadable, '--id', 'unreadable']);
    chmodSync(unreadable, 0o755);
    expect(r.status, r.stdout).toBe(1);
    expect(r.stderr).toMatch(/^cairn: error: cannot back up .*unreadable: permission denied\n$/);
    expect(readdirSync(own).includes('host') ? readdirSync(join(own, 'host')) : []).toEqual([]);
  });

  it('restore --to an empty path, or into the store, and a backup of the store itself or of a folder holding it', async () => {
    expectCliError(
      await cairn(['restore', store, 'host/src', '--to', '']),
      /the restore target is empty: name a folder to restore into/,
    );
    expectCliError(
      await cairn(['restore', store, 'host/src', '--to', join(store, 'x')]),
      /cannot restore into .*\/store\/x: it is inside the datastore/,
    );
    expectCliError(
      await cairn(['restore-image', store, 'host/src', '--to', join(store, 'x.img')]),
      /it is inside the datastore/,
    );
    expect(existsSync(join(store, 'x'))).toBe(false);
    expectCliError(
      await cairn(['backup', store, store]),
      /the datastore .* is inside .*: a backup would copy the store into itself/,
    );
    expectCliError(
      await cairn(['backup', store, base, '--id', 'base']),
      /the datastore .* is inside .*: a backup would copy the store into itself/,
    );
    // Through a symlink too: the real paths are compared.
    symlinkSync(store, join(base, 'store-link'));
    expectCliError(
      await cairn(['restore', store, 'host/src', '--to', join(base, 'store-link', 'y')]),
      /it is inside the datastore/,
    );
    expect(readdirSync(join(store, 'host'))).toEqual(['src']);
  });

  it('says what is wrong in words, not raw errno texts', async () => {
    // A file where the store keeps its locks.
    const other = join(base, 'other');
    expect((await cairn(['init', other, '--sync', 'none'])).code).toBe(0);
    rmSync(join(other, '.locks'), { recursive: true, force: true });
    writeFileSync(join(other, '.locks'), 'not a folder');
    const gc = await cairn(['gc', other]);
    expectCliError(gc, /\.locks exists and is not a folder/);
    expect(gc.stderr).not.toMatch(/EEXIST|ENOTDIR/);
    // A restore onto a dangling symlink.
    const dangling = join(base, 'dangling');
    symlinkSync(join(base, 'nowhere'), dangling);
    const r = await cairn(['restore', store, 'host/src', '--to', dangling]);
    expectCliError(r, /refusing to restore into .*dangling: it is a symlink/);
    expect(r.stderr).not.toMatch(/ENOENT|INTERNAL/);
    // A name the filesystem refuses.
    const long = join(base, 'x'.repeat(300));
    const tooLong = await cairn(['restore', store, 'host/src', '--to', long]);
    expectCliError(tooLong, /the name or the path is too long for the filesystem/);
    expect(tooLong.stderr).not.toMatch(/ENAMETOOLONG/);
  });

  it('each command takes only its own options: a foreign one is a usage error (exit 2) and changes nothing', async () => {
    const listing = (): string => (readdirSync(store, { recursive: true }) as string[]).sort().join('\n');
    const before = listing();
    const snapshot = `host/src/${readdirSync(join(store, 'host', 'src')).find((n) => n.endsWith('Z'))}`;
    const foreign: string[][] = [
      ['delete-group', store, 'host/src', '--keep-last', '1'],
      ['forget', store, snapshot, '--overwrite'],
      ['gc', store, '--overwrite', '--to', '/x'],
      ['prune', store, 'host/src', '--keep-last', '1', '--to', '/x'],
      ['verify', store, '--dry-run'],
      ['status', store, '--id', 'x'],
      ['snapshots', store, '--exclude', 'x'],
      ['groups', store, '--set', 'x'],
      ['protect', store, snapshot, '--dry-run'],
      ['unprotect', store, snapshot, '--overwrite'],
      ['notes', store, snapshot, '--set', 'x', '--dry-run'],
      ['ls', store, 'host/src', '--to', '/x'],
      ['cat', store, 'host/src', 'a.txt', '--id', 'x'],
      ['diff', store, 'host/src', 'host/src', '--overwrite'],
      ['restore', store, 'host/src', '--to', join(base, 'r'), '--keep-daily', '1'],
      ['backup', store, src, '--overwrite'],
      ['backup-image', store, join(src, 'a.txt'), '--exclude', 'x'],
      ['restore-image', store, 'host/src', '--to', join(base, 'i.img'), '--id', 'x'],
      ['init', join(base, 'new'), '--to', '/x'],
      ['excludes', src, '--keep-daily', '1'],
    ];
    for (const args of foreign) {
      const r = await cairn(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(new RegExp(`^cairn: ${args[0]} takes no --`));
      expect(r.stdout).toBe('');
    }
    // restore --to --dry-run looks at the target and writes nothing, not even the target folder.
    const dryRestore = await cairn(['restore', store, 'host/src', '--to', join(base, 'r'), '--dry-run']);
    expect(dryRestore.code, dryRestore.stderr).toBe(0);
    expect(dryRestore.stdout).toMatch(
      /^Would add \d+ files?; 0 there as backed up; 0 there that differ in size or date .*\(dry run: nothing was written\)$/m,
    );
    expect(existsSync(join(base, 'r'))).toBe(false);
    expect(listing()).toBe(before);
    expect(existsSync(join(base, 'new'))).toBe(false);
    // forget and delete-group have a real --dry-run: they say what would go, and nothing goes.
    const dry = await cairn(['delete-group', store, 'host/src', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /would remove +host\/src\/.*\nDry run: would remove 1 snapshot of host\/src; nothing was removed\./,
    );
    const dryForget = await cairn(['forget', store, snapshot, '--dry-run', '--json']);
    expect(JSON.parse(dryForget.stdout)).toEqual({ snapshot, forgotten: false, dryRun: true });
    expect(listing()).toBe(before);
  });

  it('a .gc-status Cairn did not write (PBS keeps its own, in kebab-case), cut short or of another shape is no status, not a crash', async () => {
    for (const text of [
      PBS_GC_STATUS,
      PBS_GC_STATUS.slice(0, 60),
      JSON.stringify({ startedAt: 7, completed: 'yes' }),
    ]) {
      writeFileSync(join(store, '.gc-status'), text);
      const r = await cairn(['status', store, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { gc: { last: unknown } }).gc.last).toBeNull();
      const shown = await cairn(['status', store]);
      expect(shown.code, shown.stderr).toBe(0);
      expect(shown.stderr).toBe('');
      expect(shown.stdout).toMatch(/last GC +unknown \(\.gc-status is not one Cairn wrote/);
    }
  });

  it('an empty argument (an unset shell variable) is a usage error, not the current folder', async () => {
    const cwd = join(base, 'empty-cwd');
    mkdirSync(cwd);
    const r = await cairn(['init', ''], { cwd });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('cairn: <store> is empty');
    expect(readdirSync(cwd)).toEqual([]);
    expect((await cairn(['backup', store, ''], { cwd })).stderr).toContain('cairn: <dir> is empty');
  });

  it('a folder given as a symlink to it is refused, naming the folder to give instead', async () => {
    const link = join(base, 'src-link');
    symlinkSync(src, link);
    expectCliError(
      await cairn(['backup', store, link, '--id', 'linked']),
      new RegExp(`${link} is a symlink to the folder ${src}: back up ${src} itself`),
    );
  });

  it("says what is wrong with an option in Cairn's words, not node:util's", async () => {
    const words = async (args: string[]) => {
      const r = await cairn(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("Run 'cairn --help' for usage.");
      return r.stderr.split('\n')[0];
    };
    expect(await words(['prune', store, 'host/src', '--keep-last', '-1'])).toBe(
      'cairn: --keep-last needs a value (a value that starts with "-" is written --keep-last=VALUE)',
    );
    expect(await words(['prune', store, 'host/src', '--keep-last'])).toBe('cairn: --keep-last needs a value');
    expect(await words(['gc', store, '--dry-run=yes'])).toBe('cairn: --dry-run takes no value');
    expect(await words(['prune', store, 'host/src', '--keep-last=-1'])).toBe(
      'cairn: invalid --keep-last "-1": a whole number of at least 1',
    );
  });
});
