// A file a backup had to skip (it could not be read) is tried again by every later backup, even when nothing in
// its folder changed: the folder's record from the backup that skipped it never stands for the folder's listing.
// Run as another user than root (root reads a file of mode 000): the tests run as root in CI.
import { chmodSync, chownSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cairn } from '../../support/processes.js';
import { useTempDirs } from '../../support/temp.js';
import { put } from '../../support/tree.js';

const asRoot = process.getuid?.() === 0;
/** "nobody" when the tests run as root; else the tests' own user, for whom mode 000 is unreadable as it is. */
const user = asRoot ? { uid: 65534, gid: 65534 } : undefined;

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid);
  if (statSync(path).isDirectory()) for (const name of readdirSync(path)) chownTree(join(path, name), uid, gid);
}

describe('entries a backup skipped', () => {
  const temp = useTempDirs();

  it('a file skipped as unreadable is backed up by the next backup once it can be read, though its folder is unchanged', async () => {
    const dir = temp('skipped');
    const src = join(dir, 'src');
    put(src, 'docs/ok.txt', 'readable');
    put(src, 'docs/locked.txt', 'locked at first', 0o000);
    put(src, 'other/x.txt', 'elsewhere');
    if (user) chownTree(dir, user.uid, user.gid);
    const store = join(dir, 'store');
    const env = { CAIRN_CONFIG_DIR: join(dir, 'config'), CAIRN_CACHE_DIR: join(dir, 'cache') };
    const run = (args: string[]) => cairn(args, { env, user });
    expect((await run(['init', store, '--sync', 'none'])).code).toBe(0);

    const first = await run(['backup', store, src, '--id', 'docs']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('skipped docs/locked.txt');
    const lsOf = async () => (await run(['ls', store, 'host/docs', '/docs'])).stdout;
    expect(await lsOf()).not.toContain('locked.txt');

    // Still unreadable: skipped and said so again.
    const again = await run(['backup', store, src, '--id', 'docs']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('skipped docs/locked.txt');

    // Readable now; chmod changes only the file's ctime, not its folder's.
    chmodSync(join(src, 'docs/locked.txt'), 0o644);
    const third = await run(['backup', store, src, '--id', 'docs']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toContain('skipped');
    expect(await lsOf()).toContain('locked.txt');
    const cat = await run(['cat', store, 'host/docs', '/docs/locked.txt']);
    expect(cat.stdout).toBe('locked at first');
    // The folder beside it was still taken over unchanged.
    expect(third.stdout).toMatch(/\([1-9]\d* of \d+ folders unchanged\)/);
  }, 60_000);

  it("a plan's run records the files its snapshot holds, not the ones it had to skip", async () => {
    const dir = temp('skipped-plan');
    const src = join(dir, 'src');
    put(src, 'ok.txt', 'readable');
    put(src, 'locked.txt', 'locked', 0o000);
    if (user) chownTree(dir, user.uid, user.gid);
    const store = join(dir, 'store');
    const env = { CAIRN_CONFIG_DIR: join(dir, 'config'), CAIRN_CACHE_DIR: join(dir, 'cache') };
    const run = (args: string[]) => cairn(args, { env, user });
    expect((await run(['init', store, '--sync', 'none'])).code).toBe(0);
    const add = await run(['plan', 'add', 'docs', '--source', src, '--store', store]);
    expect(add.code, add.stderr).toBe(0);
    const ran = await run(['plan', 'run', 'docs']);
    expect(ran.code, ran.stderr).toBe(0);
    const shown = JSON.parse((await run(['plan', 'show', 'docs', '--json'])).stdout) as {
      runs: { files?: number; bytes: number }[];
    };
    expect(shown.runs[0]).toMatchObject({ files: 1, bytes: 'readable'.length });
  }, 60_000);
});
