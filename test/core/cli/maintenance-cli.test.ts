import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DATA_ARCHIVE } from '../../../core/archive/archive-format.js';
import { parseSnapshotPath } from '../../../core/backup/backup-names.js';
import { formatBytes } from '../../../contract/format.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import type { GcResult } from '../../../core/gc/garbage-collection.js';
import { openIndex } from '../../../core/index/index-reader.js';
import { acquireExclusiveLock } from '../../../core/locks/process-lock.js';
import type { VerifyResult } from '../../../core/verify/verify.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { cairn, CLI, expectCliError, useLockHolders, type CliResult } from '../../support/processes.js';
import { put } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A usage error: exit 2, a short message and a pointer to --help, nothing on stdout, no stack trace. */
function expectUsageError(r: CliResult, pattern: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^cairn: /);
  expect(r.stderr).not.toContain('cairn: error:');
  expect(r.stderr).toContain("Run 'cairn --help' for usage.");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
}

function json<T>(r: CliResult): T {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

describe('cairn CLI: store maintenance (gc, prune, forget, protect, notes, verify, status)', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();
  const lockHolder = useLockHolders();
  let root = '';

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    root = ds.root;
  });

  const open = (): Datastore => Datastore.open(root);
  const snapshotsOf = (id: string): string[] =>
    open()
      .listSnapshots({ type: 'host', id })
      .map((s) => s.path);

  /** Backs up a folder holding `files` as host/<id> through the CLI; returns the snapshot path. */
  async function backup(id: string, files: Record<string, string | Buffer>): Promise<string> {
    const dir = scratch(`maint-${id}`);
    for (const [name, data] of Object.entries(files)) put(dir, name, data);
    // Each call's folder stands for the next state of one folder: the group is told it is the same data.
    const result = json<{ path: string }>(
      await cairn(['backup', root, dir, '--id', id, '--allow-other-source', '--json']),
    );
    return result.path;
  }

  /** Makes every chunk look an hour old, as after a backup long ago: GC may then delete the unused ones. */
  function ageChunks(): void {
    const past = new Date(Date.now() - 3_600_000);
    for (const entry of open().chunks.iterate()) if (entry.kind === 'chunk') utimesSync(entry.path, past, past);
  }

  it('gc after forgetting a snapshot removes the chunks only it used, and keeps the rest', async () => {
    const oldData = pseudoRandomBytes(300_000, 'maint-gc-old');
    const newData = pseudoRandomBytes(300_000, 'maint-gc-new');
    const first = await backup('gc', { 'disk.bin': oldData });
    const second = await backup('gc', { 'disk.bin': newData });

    const forgot = await cairn(['forget', root, first]);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toBe(`Forgot ${first}. Run 'cairn gc' to free the space of chunks no other snapshot uses.\n`);
    expect(snapshotsOf('gc')).toEqual([second]);

    ageChunks();
    const before = open().chunks.stats();
    const gc = await cairn(['gc', root, '--json']);
    expect(gc.stderr).toBe('');
    const result = json<GcResult>(gc);
    expect(result.completed).toBe(true);
    expect(result.removedChunks).toBeGreaterThan(0);
    expect(result.removedBytes).toBeGreaterThan(oldData.length); // random data does not compress
    expect(result.diskChunks).toBeGreaterThan(0);
    expect(result.diskBytes).toBeGreaterThan(newData.length);
    expect(result.indexDataBytes).toBeGreaterThan(0);
    expect(result.pendingChunks).toBe(0);
    expect(result.warnings).toEqual([]);
    const after = open().chunks.stats();
    expect(after.chunks).toBeLessThan(before.chunks);
    expect(after.chunks).toBe(before.chunks - result.removedChunks);
    expect(after.bytes).toBe(before.bytes - result.removedBytes);
    expect(after.chunks).toBe(result.diskChunks);

    // What the remaining snapshot needs is still there.
    const cat = await cairn(['cat', root, second, 'disk.bin']);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.out.equals(newData)).toBe(true);

    // Nothing left to collect; the report for people.
    const again = await cairn(['gc', root]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toBe('');
    const lines = again.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^Garbage collection of ${escape(root)} done in (\\d+ min )?\\d+ s$`));
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}removed\s+0 chunks \(0 B freed\)$/),
      expect.stringMatching(/^ {2}pending\s+0 chunks \(0 B\)$/),
      `  in use        ${after.chunks} chunks (${formatBytes(after.bytes)})`,
      expect.stringMatching(/^ {2}index data\s+\S+ \S+ in \d+ index files$/),
      expect.stringMatching(/^ {2}dedup factor\s+\d+\.\d\dx$/),
    ]);
  });

  it('prune --dry-run lists every decision and removes nothing; prune removes, keeping protected snapshots', async () => {
    const snaps: string[] = [];
    for (let i = 0; i < 4; i++) snaps.push(await backup('pr', { 'n.txt': `version ${i}` }));
    const [s1, s2, s3, s4] = snaps as [string, string, string, string];
    expect(snapshotsOf('pr')).toEqual(snaps);

    const dry = await cairn(['prune', root, 'host/pr', '--keep-last', '2', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toBe('');
    expect(dry.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^keep\\s+${escape(s4)}\\s+kept by keep-last \\(${escape(s4.slice(8))}\\)$`)),
      expect.stringMatching(new RegExp(`^keep\\s+${escape(s3)}\\s+kept by keep-last`)),
      expect.stringMatching(new RegExp(`^would remove\\s+${escape(s2)}\\s+not selected by any keep rule$`)),
      expect.stringMatching(new RegExp(`^would remove\\s+${escape(s1)}\\s+not selected by any keep rule$`)),
      'Dry run: would remove 2 of 4 snapshots of host/pr, keep 2; nothing was removed.',
    ]);
    expect(snapshotsOf('pr')).toEqual(snaps);

    const dryJson = json<{
      group: string;
      dryRun: boolean;
      kept: number;
      removed: number;
      failed: number;
      snapshots: { snapshot: { path: string }; mark: string; rule?: string; outcome: string }[];
    }>(await cairn(['prune', root, 'host/pr', '--keep-last', '3', '--dry-run', '--json']));
    expect(dryJson).toMatchObject({ group: 'host/pr', dryRun: true, kept: 3, removed: 1, failed: 0 });
    expect(dryJson.snapshots.map((s) => [s.snapshot.path, s.mark, s.outcome])).toEqual([
      [s4, 'keep', 'kept'],
      [s3, 'keep', 'kept'],
      [s2, 'keep', 'kept'],
      [s1, 'remove', 'would-remove'],
    ]);
    expect(snapshotsOf('pr')).toEqual(snaps);

    const protect = await cairn(['protect', root, s1]);
    expect(protect.code, protect.stderr).toBe(0);
    expect(protect.stdout).toBe(`Protected ${s1}: prune and forget leave it alone.\n`);
    const real = await cairn(['prune', root, 'host/pr', '--keep-last', '1']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^keep\\s+${escape(s4)}\\s+kept by keep-last`)),
      expect.stringMatching(new RegExp(`^remove\\s+${escape(s3)}\\s+not selected by any keep rule$`)),
      expect.stringMatching(new RegExp(`^remove\\s+${escape(s2)}\\s+not selected by any keep rule$`)),
      expect.stringMatching(new RegExp(`^keep\\s+${escape(s1)}\\s+protected$`)),
      "Removed 2 of 4 snapshots of host/pr, kept 2. Run 'cairn gc' to free the space of their chunks.",
    ]);
    expect(snapshotsOf('pr')).toEqual([s1, s4]);
  });

  it('forget refuses a protected snapshot (exit 1, one line) and removes it once unprotected; delete-group keeps protected ones', async () => {
    const s1 = await backup('fg', { 'a.txt': 'one' });
    const s2 = await backup('fg', { 'a.txt': 'two' });
    expect((await cairn(['protect', root, s1])).code).toBe(0);
    expect(
      json<{ path: string; protected: boolean }[]>(await cairn(['snapshots', root, 'host/fg', '--json'])).map((s) => [
        s.path,
        s.protected,
      ]),
    ).toEqual([
      [s1, true],
      [s2, false],
    ]);

    expectCliError(
      await cairn(['forget', root, s1]),
      new RegExp(`^cairn: error: snapshot ${escape(s1)} is protected; unprotect it first\\n$`),
    );
    expectCliError(
      await cairn(['forget', root, 'host/fg']),
      /forget needs a snapshot \(type\/id\/time\), not the group host\/fg; cairn delete-group/,
    );
    expect(snapshotsOf('fg')).toEqual([s1, s2]);

    const unprotect = await cairn(['unprotect', root, s1, '--json']);
    expect(json(unprotect)).toEqual({ snapshot: s1, protected: false });
    expect(open().isProtected(parseSnapshotPath(s1))).toBe(false);
    expect(json(await cairn(['forget', root, s1, '--json']))).toEqual({ snapshot: s1, forgotten: true });
    expect(snapshotsOf('fg')).toEqual([s2]);
    expectCliError(await cairn(['forget', root, s1]), new RegExp(`snapshot ${escape(s1)} does not exist`));

    // delete-group: a protected snapshot (here the newest, named by its group) stays, with the group.
    const d1 = await backup('dg', { 'a.txt': 'one' });
    const d2 = await backup('dg', { 'a.txt': 'two' });
    expect((await cairn(['protect', root, 'host/dg'])).stdout).toBe(
      `Protected ${d2}: prune and forget leave it alone.\n`,
    );
    const partial = await cairn(['delete-group', root, 'host/dg']);
    expect(partial.code, partial.stderr).toBe(0);
    expect(partial.stdout).toBe(
      'Removed 1 snapshot of host/dg; kept 1 protected (unprotect it to delete the group).\n',
    );
    expect(snapshotsOf('dg')).toEqual([d2]);
    expect(snapshotsOf('dg')).not.toContain(d1);
    expect((await cairn(['unprotect', root, d2])).code).toBe(0);
    expect(json(await cairn(['delete-group', root, 'host/dg', '--json']))).toEqual({
      group: 'host/dg',
      removed: 1,
      kept: 0,
    });
    expect(existsSync(join(root, 'host', 'dg'))).toBe(false);
    expectCliError(await cairn(['delete-group', root, 'host/dg']), /group host\/dg does not exist/);
  });

  it('notes shows, sets and clears the notes of a snapshot', async () => {
    const s = await backup('nt', { 'a.txt': 'x' });
    expect((await cairn(['notes', root, s])).stdout).toBe(`${s} has no notes.\n`);
    const set = await cairn(['notes', root, 'host/nt', '--set', 'before the upgrade\nsecond line']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toBe(`Set the notes of ${s}.\n`);
    expect(open().readManifest(parseSnapshotPath(s)).unprotected.notes).toBe('before the upgrade\nsecond line');
    expect((await cairn(['notes', root, s])).stdout).toBe('before the upgrade\nsecond line\n');
    expect(json(await cairn(['notes', root, s, '--json']))).toEqual({
      snapshot: s,
      notes: 'before the upgrade\nsecond line',
    });
    expect((await cairn(['notes', root, s, '--set', ''])).stdout).toBe(`Cleared the notes of ${s}.\n`);
    expect(open().readManifest(parseSnapshotPath(s)).unprotected.notes).toBe('');
    expectCliError(
      await cairn(['notes', root, 'host/nt/2020-01-01T00:00:00Z']),
      /snapshot host\/nt\/2020-01-01T00:00:00Z does not exist/,
    );
  });

  it('status shows chunks, backups, the last GC, a running GC and live writers', async () => {
    const gcResult = json<GcResult>(await cairn(['gc', root, '--json']));
    type Status = {
      root: string;
      chunks: Record<string, number>;
      groupCount: number;
      snapshotCount: number;
      protectedSnapshots: number;
      dedupFactor: number | null;
      gc: { running: boolean; holder: { pid: number; purpose: string } | null; last: GcResult | null };
      writers: { pid: number; purpose: string }[];
    };
    const status = json<Status>(await cairn(['status', root, '--json']));
    const store = open();
    const groups = store.listGroups();
    const snapshots = groups.flatMap((g) => store.listSnapshots(g));
    expect(status).toMatchObject({
      root,
      chunks: store.chunks.stats(),
      groupCount: groups.length,
      snapshotCount: snapshots.length,
      protectedSnapshots: snapshots.filter((s) => s.protected).length,
      dedupFactor: gcResult.dedupFactor,
      gc: { running: false, holder: null },
      writers: [],
    });
    expect(groups.length).toBeGreaterThan(0);
    const { warnings: _warnings, ...saved } = gcResult;
    expect(status.gc.last).toEqual(saved);

    const human = await cairn(['status', root]);
    expect(human.code, human.stderr).toBe(0);
    const lines = human.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Datastore ${root} (chunk size 4.00 MiB, compression zstd, sync none)`);
    expect(lines).toContain(
      `  backups       ${groups.length} groups, ${snapshots.length} snapshots${snapshots.some((s) => s.protected) ? ` (${snapshots.filter((s) => s.protected).length} protected)` : ''}`,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^ {2}last GC\\s+${escape(gcResult.startedAt.slice(0, 19))}Z \\((just now|under a minute ago)\\), took (\\d+ min )?\\d+ s: removed ${gcResult.removedChunks} chunk`,
        ),
      ),
    );
    expect(lines).toContain('  GC            not running');
    expect(lines).toContain('  writers       none');

    // A backup running in another process, and a GC held by this one.
    const holder = await lockHolder(root, 'busy');
    const gcLock = acquireExclusiveLock(root, 'gc', 'garbage collection');
    try {
      const busy = json<Status>(await cairn(['status', root, '--json']));
      expect(busy.writers).toEqual([expect.objectContaining({ pid: holder.pid, purpose: 'backup of host/busy' })]);
      expect(busy.gc).toMatchObject({ running: true, holder: { pid: process.pid, purpose: 'garbage collection' } });
      const text = (await cairn(['status', root])).stdout;
      expect(text).toMatch(new RegExp(`\\n {2}GC\\s+running: pid ${process.pid} on `));
      expect(text).toMatch(new RegExp(`\\n {2}writers\\s+backup of host/busy: pid ${holder.pid} on `));
      expectCliError(
        await cairn(['gc', root]),
        new RegExp(`busy: garbage collection started .* by pid ${process.pid}`),
      );
    } finally {
      gcLock.release();
      await holder.kill();
    }
  });

  it('verify exits 0 on a sound store and 1 after a byte of a chunk flips, naming the affected file', async () => {
    const precious = pseudoRandomBytes(200_000, 'maint-verify');
    const s = await backup('vf', { 'precious.bin': precious });
    const ok = await cairn(['verify', root, 'host/vf']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(
      new RegExp(
        `^ok\\s+${escape(s)}\\nOK: verified 1 snapshot \\(.+, \\d+ chunks?\\) in (\\d+ min )?\\d+ s: 1 ok, 0 failed\\n$`,
      ),
    );
    const all = await cairn(['verify', root]);
    expect(all.code, all.stdout + all.stderr).toBe(0);
    expect(all.stdout).toMatch(/\nOK: verified \d+ snapshots .*: \d+ ok, 0 failed\n$/);

    // Flip one byte in the middle of the chunk that holds precious.bin.
    const store = open();
    const index = openIndex(join(store.snapshotDir(parseSnapshotPath(s)), DATA_ARCHIVE));
    const hex = index.digest(0).toString('hex');
    const chunk = store.chunks.chunkPath(hex);
    const bytes = readFileSync(chunk);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(chunk, bytes);

    const bad = await cairn(['verify', root, s]);
    expect(bad.code, bad.stdout + bad.stderr).toBe(1);
    expect(bad.stderr).toBe('cairn: error: verification failed: 1 of 1 snapshot has problems\n');
    const lines = bad.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^FAILED\\s+${escape(s)}$`));
    expect(lines[1]).toMatch(
      new RegExp(`^ {2}${escape(DATA_ARCHIVE)}: chunk ${hex}: CRC mismatch .*moved aside to ${hex}\\.0\\.bad$`),
    );
    expect(lines[2]).toBe('    affected: /precious.bin');
    expect(lines.at(-1)).toMatch(/^FAILED: verified 1 snapshot .*: 0 ok, 1 failed; 1 damaged chunk$/);

    // Moved aside, the chunk is missing now: said as missing, not as damaged or moved aside.
    const text = await cairn(['verify', root, 'host/vf']);
    expect(text.stdout.trimEnd().split('\n').at(-1)).toMatch(
      /^FAILED: verified 1 snapshot .*: 0 ok, 1 failed; 1 chunk missing$/,
    );
    const again = await cairn(['verify', root, 'host/vf', '--json']);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe('cairn: error: verification failed: 1 of 1 snapshot has problems\n');
    const result = JSON.parse(again.stdout) as VerifyResult;
    expect(result.ok).toBe(false);
    expect(result.snapshots).toEqual([expect.objectContaining({ snapshot: s, state: 'failed' })]);
    expect(result.snapshots[0]!.problems).toEqual([
      expect.objectContaining({
        archive: DATA_ARCHIVE,
        chunk: hex,
        message: `chunk ${hex} is missing`,
        affects: ['/precious.bin'],
      }),
    ]);
    expect(store.readManifest(parseSnapshotPath(s)).unprotected.verify_state?.state).toBe('failed');
  });

  it('exits 2 on bad arguments and changes nothing', async () => {
    const s = await backup('args', { 'a.txt': 'a' });
    expectUsageError(await cairn(['prune', root, 'host/args']), /prune needs at least one --keep-… option/);
    expectUsageError(
      await cairn(['prune', root, 'host/args', '--keep-last', '0']),
      /invalid --keep-last "0": a whole number of at least 1/,
    );
    expectUsageError(await cairn(['prune', root, 'host/args', '--keep-daily', 'two']), /invalid --keep-daily "two"/);
    expectUsageError(await cairn(['prune', root, 'host/args', '--keep-weekly', '1.5']), /invalid --keep-weekly "1\.5"/);
    expectUsageError(await cairn(['prune', root, 'host/args', '--keep-monthly=-1']), /invalid --keep-monthly "-1"/);
    expectUsageError(await cairn(['prune', root, 'host/args', '--keep-yearly']), /--keep-yearly/);
    expectUsageError(await cairn(['prune', root, '--keep-last', '1']), /missing <group>/);
    expectUsageError(await cairn(['gc']), /missing <store>/);
    expectUsageError(await cairn(['status']), /missing <store>/);
    expectUsageError(await cairn(['verify']), /missing <store>/);
    expectUsageError(await cairn(['forget', root]), /missing <snapshot>/);
    expectUsageError(await cairn(['delete-group', root]), /missing <group>/);
    expectUsageError(await cairn(['protect', root]), /missing <snapshot>/);
    expectUsageError(await cairn(['unprotect', root]), /missing <snapshot>/);
    expectUsageError(await cairn(['notes', root, s, '--set']), /--set/);
    expectUsageError(await cairn(['gc', root, '--frobnicate']), /unknown option --frobnicate/);
    expect(snapshotsOf('args')).toEqual([s]);

    // Well-formed but wrong: errors (exit 1), not usage errors.
    expectCliError(await cairn(['prune', root, 'host/nope', '--keep-last', '1']), /group host\/nope does not exist/);
    expectCliError(await cairn(['verify', root, 'host/nope']), /group host\/nope does not exist/);
    expectCliError(await cairn(['verify', root, 'pc/x']), /invalid backup type "pc"/);

    const help = await cairn(['--help']);
    for (const command of [
      'status',
      'verify',
      'prune',
      'forget',
      'delete-group',
      'protect',
      'unprotect',
      'notes',
      'gc',
    ]) {
      expect(help.stdout).toContain(`\n  ${command} <store>`);
    }
  });
});
