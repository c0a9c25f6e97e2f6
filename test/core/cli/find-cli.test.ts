import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cairn, CLI, type CliResult } from '../../support/processes.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { put } from '../../support/tree.js';

function ok(r: CliResult): CliResult {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

describe('cairn versions and cairn find', () => {
  const temp = useTempDirs();

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  it('shows the versions of a file and finds files across a group, streaming one line each', async () => {
    const dir = temp('find-cli', storeTempRoot());
    const env = { CAIRN_CONFIG_DIR: join(dir, 'config') };
    const run = (args: string[]) => cairn(args, { env });
    const store = join(dir, 'store');
    const src = join(dir, 'notes');
    ok(await run(['init', store]));
    put(src, 'todo.md', 'one');
    put(src, 'old/Draft.md', 'draft');
    ok(await run(['backup', store, src]));
    writeFileSync(join(src, 'todo.md'), 'two, longer');
    ok(await run(['backup', store, src]));
    const versions = ok(await run(['versions', store, 'host/notes', 'todo.md'])).stdout;
    expect(versions).toMatch(/file\s+3 B/);
    expect(versions).toMatch(/file, changed\s+11 B/);
    expect(versions).toMatch(/2 versions of todo.md in 2 snapshots/);
    const json = JSON.parse(ok(await run(['versions', store, 'host/notes', 'todo.md', '--json'])).stdout) as {
      versions: { changed: boolean }[];
    };
    expect(json.versions.map((v) => v.changed)).toEqual([false, true]);

    const found = ok(await run(['find', store, 'host/notes', '*.MD']));
    const lines = found.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.some((l) => /\/old\/Draft\.md/.test(l))).toBe(true);
    expect(found.stderr).toMatch(/2 matches in 2 snapshots/);
    const big = JSON.parse(ok(await run(['find', store, 'host/notes', 'md', '--size', '+6', '--json'])).stdout) as {
      matches: { path: string; snapshots: number }[];
      searched: number;
      unsearched: unknown[];
    };
    expect(big).toMatchObject({ searched: 2, unsearched: [] });
    expect(big.matches.map((b) => b.path)).toEqual(['/todo.md']);
    // Back where it was: the preview first, then the restore; a file that differs is kept beside.
    rmSync(join(src, 'old'), { recursive: true });
    const preview = ok(await run(['restore', store, 'host/notes', '--in-place', '--dry-run'])).stdout;
    expect(preview).toMatch(/restore\s+\S*old\/Draft\.md/);
    expect(preview).toMatch(
      /; files there that the snapshot does not hold are left alone \(nothing is deleted\) \(dry run: nothing was written\)$/m,
    );
    expect(existsSync(join(src, 'old/Draft.md'))).toBe(false);
    ok(await run(['restore', store, 'host/notes', '--in-place']));
    expect(readFileSync(join(src, 'old/Draft.md'), 'utf8')).toBe('draft');
    for (const [args, pattern] of [
      [['restore', store, 'host/notes', '--in-place', '--to', dir], /leave out --to/],
      [
        ['restore', store, 'host/notes', '--in-place', '--conflict', 'merge'],
        /--conflict takes overwrite, keep-both or skip/,
      ],
      [['restore', store, 'host/notes', '--to', dir, '--overwrite-newer'], /--overwrite-newer goes with --in-place/],
      [['find', store, 'host/notes', 'x', '--size', 'huge'], /--size takes/],
      [['find', store, 'host/notes', 'x', '--newer', 'yesterday'], /--newer takes a date/],
      [['find', store, 'host/notes', '*.md', 'extra'], /quote a glob/],
      [['versions', store, 'host/notes'], /missing <path>/],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
    }
  }, 60_000);

  it('finds in the snapshots of a group it can read when the newest is encrypted with a key not given', async () => {
    const dir = temp('find-cli-enc', storeTempRoot());
    const env = { CAIRN_CONFIG_DIR: join(dir, 'config') };
    const run = (args: string[]) => cairn(args, { env });
    const store = join(dir, 'store');
    const src = join(dir, 'notes');
    const key = join(dir, 'key.json');
    ok(await run(['init', store]));
    put(src, 'todo.md', 'one');
    ok(await run(['backup', store, src]));
    ok(await run(['key', 'create', key, '--kdf', 'none']));
    ok(await run(['backup', store, src, '--keyfile', key]));
    const found = await run(['find', store, 'host/notes', 'todo']);
    expect(found.code).toBe(3); // a partial answer, as a backup that left entries out
    expect(found.stdout).toMatch(/\/todo\.md/);
    expect(found.stderr).toMatch(
      /warning: not searched: snapshot host\/notes\/\S+ is encrypted with the key .* \(--keyfile FILE\)/,
    );
    expect(found.stderr).toMatch(/1 match in 1 snapshot; 1 snapshot not searched \(named above\)/);
    const versions = await run(['versions', store, 'host/notes', 'todo.md']);
    expect(versions.code, versions.stderr).toBe(3);
    expect(versions.stderr).toMatch(/host\/notes\/\S+: .*encrypted/);
    // --json: the snapshot not searched is named in the result, with why, and said among its warnings.
    const json = await run(['find', store, 'host/notes', 'todo', '--json']);
    expect(json.code).toBe(3);
    expect(json.stderr).toBe('');
    const newestPath = found.stderr.match(/snapshot (host\/notes\/\S+) is encrypted/)![1]!;
    const result = JSON.parse(json.stdout) as {
      matches: unknown[];
      searched: number;
      unsearched: { snapshot: string; code: string }[];
      warnings: string[];
    };
    expect(result.matches).toHaveLength(1);
    expect(result.searched).toBe(1);
    expect(result.unsearched).toEqual([expect.objectContaining({ snapshot: newestPath, code: 'KEY_REQUIRED' })]);
    expect(result.warnings).toEqual([expect.stringMatching(/^not searched: snapshot host\/notes\/\S+ is encrypted/)]);
    const versionsJson = await run(['versions', store, 'host/notes', 'todo.md', '--json']);
    expect(versionsJson.code).toBe(3);
    expect(JSON.parse(versionsJson.stdout)).toMatchObject({
      unreadable: [expect.objectContaining({ snapshot: newestPath })],
      warnings: [expect.stringContaining(newestPath)],
    });
    const withKey = ok(await run(['find', store, 'host/notes', 'todo', '--keyfile', key]));
    expect(withKey.stderr).toBe('1 match in 2 snapshots\n');
    // One snapshot named: its key is asked for, as before.
    const one = await run(['find', store, newestPath, 'todo']);
    expect(one.code).toBe(1);
    expect(one.stderr).toMatch(/give that key to read it/);
  }, 60_000);
});
