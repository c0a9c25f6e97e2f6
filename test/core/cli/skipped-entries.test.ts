// A file a backup had to skip (it could not be read) is tried again by every later backup, even when nothing in
// its folder changed: the folder's record from the backup that skipped it never stands for the folder's listing.
// Run as another user than root (root reads a file of mode 000): the tests run as root in CI.
import { chmodSync, chownSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cairn } from '../../support/processes.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
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
    const dir = temp('skipped', storeTempRoot());
    const src = join(dir, 'src');
    put(src, 'docs/ok.txt', 'readable');
    put(src, 'docs/locked.txt', 'locked at first', 0o000);
    put(src, 'other/x.txt', 'elsewhere');
    if (user) chownTree(dir, user.uid, user.gid);
    const store = join(dir, 'store');
    const env = { CAIRN_CONFIG_DIR: join(dir, 'config'), CAIRN_CACHE_DIR: join(dir, 'cache') };
    const run = (args: string[]) => cairn(args, { env, user });
    expect((await run(['init', store, '--sync', 'none'])).code).toBe(0);

    // Exit code 3: the snapshot was made, without what could not be read.
    const first = await run(['backup', store, src, '--id', 'docs']);
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toContain('skipped docs/locked.txt');
    expect(first.stderr).toContain(
      '1 entry could not be read and is not in the snapshot (named above); everything else was backed up',
    );
    const lsOf = async () => (await run(['ls', store, 'host/docs', '/docs'])).stdout;
    expect(await lsOf()).not.toContain('locked.txt');

    // Still unreadable: skipped and said so again, also to a script.
    const again = await run(['backup', store, src, '--id', 'docs', '--json']);
    expect(again.code, again.stderr).toBe(3);
    const result = JSON.parse(again.stdout) as { leftOut: { count: number; named: { path: string }[] } };
    expect(result.leftOut).toMatchObject({ count: 1, named: [{ path: 'docs/locked.txt' }] });

    // Readable now; chmod changes only the file's ctime, not its folder's.
    chmodSync(join(src, 'docs/locked.txt'), 0o644);
    const third = await run(['backup', store, src, '--id', 'docs']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).not.toContain('skipped');
    expect(third.stderr).not.toContain('could not be read');
    expect(await lsOf()).toContain('locked.txt');
    const cat = await run(['cat', store, 'host/docs', '/docs/locked.txt']);
    expect(cat.stdout).toBe('locked at first');
    // The folder beside it was still taken over unchanged.
    expect(third.stdout).toMatch(/\([1-9]\d* of \d+ folders unchanged\)/);
  }, 60_000);

  it('the exclude preview names what a backup would leave out: a file it cannot read, a folder it cannot list', async () => {
    const dir = temp('skipped-preview', storeTempRoot());
    const src = join(dir, 'src');
    put(src, 'ok.txt', 'readable');
    put(src, 'locked.txt', 'locked', 0o000);
    put(src, 'shared.txt', 'read by the owner only', 0o600);
    put(src, 'private/diary.txt', 'dear diary');
    put(src, 'cache/x.bin', 'excluded, so never read');
    if (user) chownTree(dir, user.uid, user.gid);
    chmodSync(join(src, 'private'), 0o000);
    chmodSync(join(src, 'cache'), 0o000);
    const run = (args: string[]) => cairn(args, { env: { CAIRN_CONFIG_DIR: join(dir, 'config') }, user });
    const preview = await run(['excludes', src, '--exclude', 'cache/']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain('2 entries cannot be read and would be left out:');
    // ok.txt and shared.txt; locked.txt is not counted as backed up.
    expect(preview.stdout).toMatch(/; 2 files \(\d+ B\) would be backed up$/m);
    expect(preview.stdout).toContain('  locked.txt: permission denied');
    expect(preview.stdout).toContain('  private/: permission denied');
    expect(preview.stdout).not.toMatch(/shared\.txt|cache\/:/);
    const json = JSON.parse((await run(['excludes', src, '--exclude', 'cache/', '--json'])).stdout) as {
      leftOut: { count: number; named: { path: string; reason: string }[] };
    };
    expect(json.leftOut.count).toBe(2);
    expect(json.leftOut.named.map((e) => e.path).sort()).toEqual(['locked.txt', 'private/']);
  }, 60_000);

  it("a plan's run records the files its snapshot holds, not the ones it had to skip", async () => {
    const dir = temp('skipped-plan', storeTempRoot());
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
    expect(ran.code, ran.stderr).toBe(3);
    expect(ran.stdout).toContain('1 entry could not be read (not in the snapshot)');
    const shown = JSON.parse((await run(['plan', 'show', 'docs', '--json'])).stdout) as {
      status: { state: string };
      runs: { files?: number; bytes: number }[];
    };
    expect(shown.runs[0]).toMatchObject({
      files: 1,
      bytes: 'readable'.length,
      leftOut: 1,
      leftOutNamed: [{ path: 'locked.txt', reason: 'permission denied' }],
    });
    expect(shown.status.state).toBe('incomplete');
    expect((await run(['plan', 'list'])).stdout).toContain('incomplete');
  }, 60_000);

  it('a socket holds no data: skipped, and no reason for exit code 3', async () => {
    const dir = temp('skipped-socket', storeTempRoot());
    const src = join(dir, 'src');
    put(src, 'ok.txt', 'readable');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(src, 'agent.sock'), resolve));
    try {
      if (user) chownTree(dir, user.uid, user.gid);
      const store = join(dir, 'store');
      const env = { CAIRN_CONFIG_DIR: join(dir, 'config'), CAIRN_CACHE_DIR: join(dir, 'cache') };
      const run = (args: string[]) => cairn(args, { env, user });
      expect((await run(['init', store, '--sync', 'none'])).code).toBe(0);
      const backup = await run(['backup', store, src, '--id', 'sock', '--json']);
      expect(backup.code, backup.stderr).toBe(0);
      const result = JSON.parse(backup.stdout) as { leftOut: { count: number }; stats: { skipped: number } };
      expect(result.leftOut.count).toBe(0);
      expect(result.stats.skipped).toBe(1);
    } finally {
      server.close();
    }
  }, 60_000);
});
