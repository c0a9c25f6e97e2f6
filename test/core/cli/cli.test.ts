import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../../contract/format.js';
import { pseudoRandomBytes, textBytes } from '../../support/data.js';
import { CLI } from '../../support/processes.js';
import { tempDir, useTempDirs } from '../../support/temp.js';

const SNAPSHOT_PATH = /host\/[A-Za-z0-9._-]+\/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/;

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process with Node (the same binary that runs the tests). */
function cairn(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const env = { ...process.env };
  delete env.CAIRN_DEBUG;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? tmpdir(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A command that hangs fails its test instead of the whole run.
      ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** A failure as users see it: exit 1, nothing on stdout, one line 'cairn: error: ...' and no stack trace. */
function expectError(r: RunResult, pattern: RegExp): void {
  expect(r.code, `stderr: ${r.stderr}`).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.startsWith('cairn: error: ')).toBe(true);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).toMatch(pattern);
}

/** A usage error: exit 2, a short message and a pointer to --help, no stack trace. */
function expectUsageError(r: RunResult, pattern: RegExp): void {
  expect(r.code, `stderr: ${r.stderr}`).toBe(2);
  expect(r.stderr).toMatch(/^cairn: /);
  expect(r.stderr).not.toContain('cairn: error:');
  expect(r.stderr).toContain("Run 'cairn --help' for usage.");
  expect(r.stderr).not.toContain('    at ');
  expect(r.stderr).toMatch(pattern);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('cairn CLI', () => {
  const tmp = useTempDirs();
  let base = '';
  let store = '';
  let init: RunResult | undefined;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    base = tempDir('test');
    store = join(base, 'store');
    // Without --sync: the store gets the default level, 'filesystem'.
    init = await cairn(['init', store, '--chunk-size', '64K']);
  });
  afterAll(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  /** Backs up `data` as `<dir>/<name>` with extra options; returns the snapshot path printed. */
  async function backup(
    name: string,
    data: Buffer,
    extra: string[] = [],
  ): Promise<{ file: string; snapshot: string; run: RunResult }> {
    const file = join(tmp(), name);
    writeFileSync(file, data);
    const run = await cairn(['backup-image', store, file, ...extra]);
    expect(run.code, run.stderr).toBe(0);
    const snapshot = SNAPSHOT_PATH.exec(run.stdout)?.[0];
    if (!snapshot) throw new Error(`no snapshot path in ${JSON.stringify(run.stdout)}`);
    return { file, snapshot, run };
  }

  it('init creates a datastore with the default sync level', () => {
    expect(init).toBeDefined();
    const r = init!;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`Created datastore ${store} (chunk size 64.0 KiB, compression zstd, sync filesystem)\n`);
    expect(r.stderr).toBe('');
    const config = JSON.parse(readFileSync(join(store, '.cairn-store.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      format: 'cairn-datastore',
      version: 1,
      chunkSize: 65536,
      compression: 'zstd',
      syncLevel: 'filesystem',
    });
    expect(readdirSync(join(store, '.chunks')).length).toBe(65536);
  });

  it('init refuses an existing datastore, a non-empty folder and invalid options, changing nothing', async () => {
    const before = readFileSync(join(store, '.cairn-store.json'));
    expectError(await cairn(['init', store]), new RegExp(`${escape(store)} is already a Cairn datastore`));
    expect(readFileSync(join(store, '.cairn-store.json')).equals(before)).toBe(true);

    const full = tmp();
    writeFileSync(join(full, 'thesis.pdf'), 'draft');
    expectError(await cairn(['init', full, '--sync', 'none']), /is not empty \(found thesis\.pdf\)/);
    expect(readdirSync(full)).toEqual(['thesis.pdf']);

    const fresh = join(tmp(), 'new');
    expectError(await cairn(['init', fresh, '--chunk-size', '3M']), /invalid --chunk-size 3M/);
    expectError(await cairn(['init', fresh, '--compression', 'lz4']), /invalid compression "lz4"/);
    expectError(await cairn(['init', fresh, '--sync', 'x']), /invalid sync level "x"/);
    expect(existsSync(fresh)).toBe(false);
  });

  it('backs up an image, lists groups and snapshots, and restores it byte for byte', async () => {
    const data = Buffer.concat([pseudoRandomBytes(3 * 65536 + 100, 'cli'), Buffer.alloc(65536), textBytes(20000, 8)]);
    const { file, snapshot, run } = await backup('disk.img', data);
    expect(run.stdout).toMatch(
      new RegExp(
        `^Backed up ${escape(file)} to ${escape(snapshot)}/disk\\.img\\.fidx: .*, 5 of 5 chunks new .*deduplicated\\n$`,
      ),
    );
    expect(snapshot.startsWith('host/disk/')).toBe(true);
    expect(run.stderr).toBe('');

    const groups = await cairn(['groups', store]);
    expect(groups.code).toBe(0);
    const lines = groups.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^GROUP\s+SNAPSHOTS\s+LAST BACKUP\s+OWNER\s+SOURCE$/);
    const owner = `${userInfo().username}@local`;
    const source = escape(realpathSync(file));
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^host/disk\\s+1\\s+${escape(snapshot.slice('host/disk/'.length))}\\s+${escape(owner)}\\s+${source}$`,
        ),
      ),
    );

    const groupsJson = await cairn(['groups', store, '--json']);
    expect(groupsJson.code).toBe(0);
    const parsedGroups = JSON.parse(groupsJson.stdout) as Record<string, unknown>[];
    expect(parsedGroups).toContainEqual(
      expect.objectContaining({ type: 'host', id: 'disk', path: 'host/disk', snapshotCount: 1, owner }),
    );

    const snapshots = await cairn(['snapshots', store, 'host/disk']);
    expect(snapshots.code).toBe(0);
    expect(snapshots.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^SNAPSHOT\s+STATE\s+SIZE\s+FILES\s+VERIFY\s+ARCHIVES$/),
      expect.stringMatching(
        new RegExp(
          `^${escape(snapshot)}\\s+finished\\s+${escape(formatBytes(data.length))}\\s+-\\s+not verified\\s+disk\\.img\\.fidx$`,
        ),
      ),
    ]);
    const snapshotsJson = await cairn(['snapshots', store, 'host/disk', '--json']);
    expect(snapshotsJson.code).toBe(0);
    expect(JSON.parse(snapshotsJson.stdout)).toEqual([
      expect.objectContaining({
        type: 'host',
        id: 'disk',
        path: snapshot,
        finished: true,
        protected: false,
        files: ['disk.img.fidx'],
        kind: 'image',
        size: data.length,
      }),
    ]);
    const all = await cairn(['snapshots', store, '--json']);
    expect((JSON.parse(all.stdout) as { path: string }[]).map((s) => s.path)).toContain(snapshot);

    const outDir = tmp();
    const restored = await cairn(['restore-image', store, snapshot, '--to', 'restored.img'], { cwd: outDir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(
      new RegExp(`^Restored disk\\.img\\.fidx \\(.+\\) to ${escape(join(outDir, 'restored.img'))}\\n$`),
    );
    const bytes = readFileSync(join(outDir, 'restored.img'));
    expect(bytes.length).toBe(data.length);
    expect(bytes.equals(data)).toBe(true);
    expect(readdirSync(outDir)).toEqual(['restored.img']);
  });

  it('prints JSON results with --json and deduplicates a second backup', async () => {
    const data = pseudoRandomBytes(2 * 65536 + 1, 'json');
    const first = await backup('vmdisk.raw', data, ['--id', 'vm-7', '--archive', 'drive0']);
    expect(first.snapshot.startsWith('host/vm-7/')).toBe(true);
    expect(first.run.stdout).toContain('/drive0.img.fidx: ');
    const again = await cairn(['backup-image', store, first.file, '--id', 'vm-7', '--archive', 'drive0', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      archive: 'drive0.img.fidx',
      bytesDone: data.length,
      chunks: 3,
      newChunks: 0,
      dedupBytes: data.length,
    });
    expect(result.snapshot).toMatchObject({ type: 'host', id: 'vm-7' });
    expect(String(result.path)).toMatch(/^host\/vm-7\//);
    expect(String(result.path) > first.snapshot).toBe(true);

    const typed = await cairn(['backup-image', store, first.file, '--type', 'vm', '--id', '100', '--json']);
    expect(typed.code, typed.stderr).toBe(0);
    expect(JSON.parse(typed.stdout)).toMatchObject({
      archive: 'vmdisk.raw.img.fidx',
      snapshot: { type: 'vm', id: '100' },
    });

    const restoreDir = tmp();
    const out = join(restoreDir, 'out.raw');
    const restored = await cairn([
      'restore-image',
      store,
      String(result.path),
      '--to',
      out,
      '--archive',
      'drive0',
      '--json',
    ]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toEqual({
      target: out,
      written: out,
      archive: 'drive0.img.fidx',
      size: data.length,
      chunks: 3,
      damaged: [],
    });
    expect(readFileSync(out).equals(data)).toBe(true);

    // A damaged chunk: its range is named, the image is not written, and --keep-damaged keeps the rest.
    const firstChunk = createHash('sha256').update(data.subarray(0, 65536)).digest('hex');
    const victim = join(store, '.chunks', firstChunk.slice(0, 4), firstChunk);
    const raw = readFileSync(victim);
    raw[raw.length - 7]! ^= 0xff;
    writeFileSync(victim, raw);
    const damagedOut = join(restoreDir, 'damaged.raw');
    const damaged = await cairn([
      'restore-image',
      store,
      String(result.path),
      '--to',
      damagedOut,
      '--archive',
      'drive0',
    ]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(
      /^damaged: bytes \d+-\d+: chunk [0-9a-f]{64}: .*\ncairn: error: 1 range of drive0\.img\.fidx could not be read .*was not written \(--keep-damaged/,
    );
    expect(existsSync(damagedOut)).toBe(false);
    const keep = await cairn([
      'restore-image',
      store,
      String(result.path),
      '--to',
      damagedOut,
      '--archive',
      'drive0',
      '--keep-damaged',
    ]);
    expect(keep.code).toBe(1);
    expect(keep.stderr).toContain(`the rest is in ${damagedOut}.damaged`);
    expect(readFileSync(`${damagedOut}.damaged`).length).toBe(data.length);
  });

  it('refuses to restore over an existing file unless --overwrite is given', async () => {
    const data = textBytes(100_000, 12);
    const { snapshot } = await backup('notes.img', data);
    const dir = tmp();
    const target = join(dir, 'notes.img');
    writeFileSync(target, 'keep me');
    expectError(
      await cairn(['restore-image', store, snapshot, '--to', target]),
      new RegExp(`${escape(target)} already exists \\(pass --overwrite`),
    );
    expect(readFileSync(target, 'utf8')).toBe('keep me');
    expect(readdirSync(dir)).toEqual(['notes.img']);
    const r = await cairn(['restore-image', store, snapshot, '--to', target, '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(target).equals(data)).toBe(true);
    // A group where a snapshot is expected means its newest finished snapshot, as for every command.
    const group = snapshot.split('/').slice(0, 2).join('/');
    const byGroup = await cairn(['restore-image', store, group, '--to', join(dir, 'by-group.img')]);
    expect(byGroup.code, byGroup.stderr).toBe(0);
    expect(readFileSync(join(dir, 'by-group.img')).equals(data)).toBe(true);
  });

  it('reports errors as one line with exit code 1 and no stack trace', async () => {
    const plain = tmp();
    writeFileSync(join(plain, 'file.txt'), 'x');
    expectError(await cairn(['groups', plain]), new RegExp(`${escape(plain)} is not a Cairn datastore`));
    expectError(await cairn(['snapshots', plain]), /is not a Cairn datastore/);
    // With --json the failure is a JSON object on stdout as well, for scripts.
    const asJson = await cairn(['snapshots', plain, '--json']);
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toEqual({
      error: { code: 'NOT_A_DATASTORE', message: expect.stringMatching(/is not a Cairn datastore/), exitCode: 1 },
    });
    const usage = await cairn(['snapshots', plain, '--json', '--bogus']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toMatchObject({ error: { code: 'USAGE', exitCode: 2 } });
    expectError(await cairn(['backup-image', plain, join(plain, 'file.txt')]), /is not a Cairn datastore/);
    expect(readdirSync(plain)).toEqual(['file.txt']);
    const missingStore = join(plain, 'no-store');
    expectError(await cairn(['groups', missingStore]), new RegExp(`datastore ${escape(missingStore)} does not exist`));

    const to = join(tmp(), 'out.img');
    expectError(
      await cairn(['restore-image', store, 'host/disk/2020-01-01T00:00:00Z', '--to', to]),
      /snapshot host\/disk\/2020-01-01T00:00:00Z does not exist/,
    );
    expectError(
      await cairn(['restore-image', store, 'host/disk/yesterday', '--to', to]),
      /invalid snapshot time "yesterday"/,
    );
    expectError(
      await cairn(['restore-image', store, 'host/../2020-01-01T00:00:00Z', '--to', to]),
      /invalid backup id "\.\."/,
    );
    expectError(
      await cairn(['restore-image', store, 'host/nothing', '--to', to]),
      /group host\/nothing has no finished snapshot/,
    );
    expectError(
      await cairn(['restore-image', store, 'pc/disk/2020-01-01T00:00:00Z', '--to', to]),
      /invalid backup type "pc"/,
    );
    expectError(await cairn(['snapshots', store, 'host/a/b']), /invalid group "host\/a\/b"/);
    expect(existsSync(to)).toBe(false);

    expectError(await cairn(['backup-image', store, join(plain, 'missing.img')]), /cannot open .*missing\.img/);
    expectError(await cairn(['backup-image', store, plain]), /is not a regular file/);
    // A FIFO is refused at once, not waited on for a writer (with the group's lock held).
    const fifo = join(plain, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expectError(await cairn(['backup-image', store, fifo], { timeoutMs: 20_000 }), /is not a regular file/);
    expectError(await cairn(['snapshots', store, 'host/nope']), /group host\/nope does not exist/);
    // The file in the way is the one named.
    expectError(await cairn(['init', join(plain, 'file.txt')]), /file\.txt exists and is not a folder/);
    expectError(
      await cairn(['init', join(plain, 'file.txt', 'sub')]),
      /cannot make \S*file\.txt\/sub: \S*file\.txt exists and is not a folder/,
    );
    expectError(
      await cairn(['backup-image', store, join(plain, 'file.txt'), '--type', 'pc']),
      /invalid backup type "pc"/,
    );
    expectError(
      await cairn(['backup-image', store, join(plain, 'file.txt'), '--chunk-size', '100K']),
      /invalid --chunk-size 100K/,
    );
    const groups = JSON.parse((await cairn(['groups', store, '--json'])).stdout) as { id: string }[];
    expect(groups.map((g) => g.id)).not.toContain('file');
  });

  it('exits 2 on usage errors', async () => {
    const none = await cairn([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/^Usage: cairn <command>/);
    expectUsageError(await cairn(['frobnicate']), /unknown command "frobnicate"/);
    expectUsageError(await cairn(['groups', '--frobnicate']), /unknown option --frobnicate/);
    expectUsageError(await cairn(['init']), /missing <store>/);
    expectUsageError(await cairn(['groups']), /missing <store>/);
    expectUsageError(await cairn(['backup-image', store]), /missing <file>/);
    expectUsageError(await cairn(['restore-image', store]), /missing <snapshot>/);
    expectUsageError(await cairn(['restore-image', store, 'host/disk/2020-01-01T00:00:00Z']), /missing --to <file>/);
    expectUsageError(await cairn(['restore-image', store, 'host/disk/2020-01-01T00:00:00Z', '--to']), /--to/);
  });

  it('prints usage and exits 0 for --help, -h and help', async () => {
    for (const args of [['--help'], ['-h'], ['help'], ['groups', '--help']]) {
      const r = await cairn(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: cairn <command> \[options\]/);
      for (const command of ['init', 'backup-image', 'restore-image', 'groups', 'snapshots'])
        expect(r.stdout).toContain(`  ${command} `);
      expect(r.stderr).toBe('');
    }
  });
});
