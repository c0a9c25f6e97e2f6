import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryInfo } from '../../../core/archive/entry-info.js';
import { previewExcludes } from '../../../core/archive/exclude-preview.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { diffSnapshots } from '../../../core/archive/snapshot-diff.js';
import { parseSnapshotPath, snapshotPath } from '../../../core/backup/backup-names.js';
import { formatBytes } from '../../../contract/format.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { craftSnapshot } from '../../support/crafted.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { cairn, CLI, expectCliError, useLockHolders, type CliResult } from '../../support/processes.js';
import { expectSameTree, mkfifo, put } from '../../support/tree.js';
import { tempDir, storeTempRoot, removeTree, useTempDirs } from '../../support/temp.js';

/** A restore that wrote what it could: exit 1, what was not restored named on stderr, then one error line. */
function expectPartialRestore(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toMatch(/^Restored \d+ files/);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(
    /^cairn: error: \d+ (entry|entries) of the snapshot could not be restored/,
  );
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const SNAPSHOT = /host\/[A-Za-z0-9._-]+\/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/;

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The mtime column of `cairn ls`: UTC, to the second. */
function lsTime(path: string): string {
  return new Date(Math.floor(Number(lstatSync(path, { bigint: true }).mtimeNs / 1_000_000n)))
    .toISOString()
    .slice(0, 19)
    .replace('T', ' ');
}

describe('cairn CLI: folder backups', () => {
  const scratch = useTempDirs();
  const lockHolder = useLockHolders();
  let base = '';
  let store = '';
  let src = '';
  let first = '';
  const photo = pseudoRandomBytes(200 * 1024, 'cli-photo');
  const excludes = ['--exclude', '*.log', '--exclude', 'build/'];

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    base = tempDir('cli-folder', storeTempRoot());
    store = join(base, 'store');
    const init = await cairn(['init', store, '--sync', 'none']);
    expect(init.code, init.stderr).toBe(0);
    src = tempDir('cli-src');
    put(src, 'notes.txt', 'v1 notes');
    put(src, 'photo.bin', photo);
    put(src, 'app.log', 'log');
    put(src, 'build/out.o', 'object');
    put(src, 'docs/guide.md', '# Guide\n');
    put(src, 'docs/sub/deep.txt', 'deep');
    mkdirSync(join(src, 'empty'));
    symlinkSync('notes.txt', join(src, 'link'));
  });
  afterAll(() => {
    if (base) removeTree(base);
    if (src) removeTree(src);
  });

  const open = (): Datastore => Datastore.open(store);

  it('backup prints what it did and the snapshot path; --exclude leaves entries out', async () => {
    const r = await cairn(['backup', store, src, '--id', 'docs', ...excludes]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    first = SNAPSHOT.exec(r.stdout)?.[0] ?? '';
    expect(first.startsWith('host/docs/')).toBe(true);
    const total = escape(formatBytes(photo.length + 20));
    expect(r.stdout).toMatch(
      new RegExp(
        `^Backed up 4 files \\(${total}\\) to ${escape(first)} in (\\d+ min )?\\d+ s\\n` +
          `  read ${total}, reused 0 B unchanged\\n  new data .+ in \\d+ chunks, .+ deduplicated\\n  2 entries excluded\\n$`,
      ),
    );
    const snapshots = open().listSnapshots({ type: 'host', id: 'docs' });
    expect(snapshots.map((s) => s.path)).toEqual([first]);
    expect(snapshots[0]).toMatchObject({ finished: true, files: ['folder.data.didx', 'folder.meta.didx'] });
  });

  it('backup --json prints the result; an unchanged folder is reused from the previous snapshot', async () => {
    const r = await cairn(['backup', store, src, '--id', 'docs', ...excludes, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      snapshot: { type: 'host', id: 'docs' },
      base: first,
      excluded: 2,
      bytesRead: 0,
      bytesReused: photo.length + 8 + 8 + 4,
      stats: { files: 4, directories: 4, symlinks: 1, hardlinks: 0, bytes: photo.length + 20, skipped: 0 },
      warnings: [],
    });
    expect(String(result.path)).toMatch(SNAPSHOT);
    expect(String(result.path) > first).toBe(true);
  });

  it('backup of several folders: one snapshot whose root holds each by name; --id is needed, overlaps refused', async () => {
    const other = scratch('cli-other');
    put(other, 'music/song.ogg', 'la la la');
    const two = [src, join(other, 'music')];
    const usage = await cairn(['backup', store, ...two]);
    expect(usage.code, usage.stderr).toBe(2);
    expect(usage.stderr).toMatch(/backing up 2 folders into one snapshot needs --id/);
    expectCliError(
      await cairn(['backup', store, src, join(src, 'docs'), '--id', 'both']),
      /docs is inside .*another source/,
    );
    const r = await cairn(['backup', store, ...two, '--id', 'both', ...excludes]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Backed up 5 files \(.+\) of 2 folders to host\/both\//);
    const snapshot = SNAPSHOT.exec(r.stdout)![0];
    const ls = await cairn(['ls', store, snapshot]);
    expect(
      ls.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s+/).at(-1)),
    ).toEqual([`${src.split('/').at(-1)}/`, 'music/']); // by name bytes
    expect((await cairn(['cat', store, snapshot, 'music/song.ogg'])).stdout).toBe('la la la');
    const again = JSON.parse(
      (await cairn(['backup', store, ...two.reverse(), '--id', 'both', ...excludes, '--json'])).stdout,
    );
    expect(again).toMatchObject({ bytesRead: 0, newChunks: 0, metadataAppended: true });
  });

  it('backup warns about skipped entries on stderr and still succeeds', async () => {
    const dir = scratch('cli-fifo');
    put(dir, 'ok.txt', 'ok');
    mkfifo(join(dir, 'pipe'));
    const r = await cairn(['backup', store, dir, '--id', 'with-fifo']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('warning: skipped pipe: a FIFO cannot be backed up\n');
    expect(r.stdout).toMatch(/^Backed up 1 file .*\n {2}1 entry skipped \(see warnings\)\n$/s);
    const json = await cairn(['backup', store, dir, '--id', 'with-fifo', '--json']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe(''); // --json: warnings are in the result, not on stderr
    expect(JSON.parse(json.stdout)).toMatchObject({
      stats: { skipped: 1 },
      warnings: ['skipped pipe: a FIFO cannot be backed up'],
    });
  });

  it('ls lists a folder of the newest snapshot (group path), in a table or as JSON', async () => {
    const r = await cairn(['ls', store, 'host/docs']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^d\\s+755\\s+${lsTime(join(src, 'docs'))}\\s+docs/$`)),
      expect.stringMatching(new RegExp(`^d\\s+755\\s+${lsTime(join(src, 'empty'))}\\s+empty/$`)),
      expect.stringMatching(new RegExp(`^l\\s+777\\s+0 B\\s+${lsTime(join(src, 'link'))}\\s+link -> notes\\.txt$`)),
      expect.stringMatching(new RegExp(`^-\\s+644\\s+8 B\\s+${lsTime(join(src, 'notes.txt'))}\\s+notes\\.txt$`)),
      expect.stringMatching(new RegExp(`^-\\s+644\\s+200 KiB\\s+${lsTime(join(src, 'photo.bin'))}\\s+photo\\.bin$`)),
    ]);
    const sub = await cairn(['ls', store, 'host/docs', 'docs/sub']);
    expect(sub.stdout).toMatch(/^-\s+644\s+4 B\s+\S+ \S+\s+deep\.txt\n$/);
    const empty = await cairn(['ls', store, 'host/docs', 'empty']);
    expect(empty.stdout).toBe('(empty folder)\n');

    const json = await cairn(['ls', store, first, 'docs', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const reader = new FolderArchiveReader(open().openSnapshot(parseSnapshotPath(first)));
    expect(JSON.parse(json.stdout)).toEqual(reader.list('docs').map(entryInfo));
  });

  it('cat writes a file byte for byte; a group path means its newest snapshot', async () => {
    const r = await cairn(['cat', store, 'host/docs', 'photo.bin']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.equals(photo)).toBe(true);
    expect(r.stderr).toBe('');

    writeFileSync(join(src, 'notes.txt'), 'v2 notes, now longer');
    const again = await cairn(['backup', store, src, '--id', 'docs', ...excludes]);
    expect(again.code, again.stderr).toBe(0);
    expect((await cairn(['cat', store, 'host/docs', 'notes.txt'])).stdout).toBe('v2 notes, now longer');
    expect((await cairn(['cat', store, first, 'notes.txt'])).stdout).toBe('v1 notes');
    expect((await cairn(['cat', store, first, '/docs/sub/deep.txt'])).stdout).toBe('deep');
  });

  it('restore writes the newest snapshot, a folder of it or one file; existing files are kept unless --overwrite', async () => {
    const all = scratch('cli-restore');
    const r = await cairn(['restore', store, 'host/docs', '--to', all]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `Restored 4 files (${formatBytes(photo.length + 'v2 notes, now longer'.length + 8 + 4)}) to ${all}\n`,
    );
    expectSameTree(src, all, { skip: ['app.log', 'build'] });

    const sub = scratch('cli-restore-sub');
    const part = await cairn(['restore', store, 'host/docs', 'docs/sub', '--to', 'out'], { cwd: sub });
    expect(part.code, part.stderr).toBe(0);
    expect(part.stdout).toBe(`Restored 1 file (4 B) to ${join(sub, 'out')}\n`);
    expect(readdirSync(join(sub, 'out'))).toEqual(['deep.txt']);

    writeFileSync(join(sub, 'out/deep.txt'), 'mine');
    // The dry run names the file there that differs, with the folder's contents placed as the restore places them.
    const dry = await cairn(['restore', store, 'host/docs', 'docs/sub', '--to', join(sub, 'out'), '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      'differs  deep.txt\nWould add 0 files; 0 there as backed up; 1 there that differs in size or date (kept; --overwrite replaces it) ' +
        '(dry run: nothing was written)\n',
    );
    expect(readFileSync(join(sub, 'out/deep.txt'), 'utf8')).toBe('mine');
    const kept = await cairn(['restore', store, 'host/docs', 'docs/sub/deep.txt', '--to', join(sub, 'out')]);
    expect(kept.code, kept.stderr).toBe(0);
    // One line for what was kept, not a warning per file (a restore into a full folder printed thousands).
    expect(kept.stdout).toBe(
      `Restored 0 files (0 B) to ${join(sub, 'out')}; kept 1 existing file that differs in size or date (--overwrite replaces it)\n`,
    );
    expect(kept.stderr).toBe('');
    expect(readFileSync(join(sub, 'out/deep.txt'), 'utf8')).toBe('mine');
    const over = await cairn([
      'restore',
      store,
      'host/docs',
      'docs/sub/deep.txt',
      '--to',
      join(sub, 'out'),
      '--overwrite',
    ]);
    expect(over.code, over.stderr).toBe(0);
    // The file it replaced ("mine") is counted: an overwrite is never silent.
    expect(over.stdout).toBe(`Restored 1 file (4 B) to ${join(sub, 'out')}; 1 file there that differed was replaced\n`);
    expect(readFileSync(join(sub, 'out/deep.txt'), 'utf8')).toBe('deep');
  });

  it('diff shows added, removed and changed entries, and the same as JSON', async () => {
    const s = open();
    const before = s.latestSnapshot({ type: 'host', id: 'docs' })!;
    unlinkSync(join(src, 'docs/guide.md'));
    put(src, 'added.txt', 'x'.repeat(2048));
    writeFileSync(join(src, 'notes.txt'), 'v3');
    const b = await cairn(['backup', store, src, '--id', 'docs', ...excludes]);
    expect(b.code, b.stderr).toBe(0);

    const r = await cairn(['diff', store, before.path, 'host/docs']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        '+ added.txt  2.00 KiB',
        '- docs/guide.md  8 B',
        'M notes.txt  (content, mtime: 20 B -> 2 B)',
        '1 added, 1 removed, 1 changed; +2.00 KiB -26 B',
      ].join('\n') + '\n',
    );
    const json = await cairn(['diff', store, before.path, 'host/docs', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const latest = s.latestSnapshot({ type: 'host', id: 'docs' })!;
    expect(JSON.parse(json.stdout)).toEqual(JSON.parse(JSON.stringify(diffSnapshots(s, before, latest))));
    const same = await cairn(['diff', store, 'host/docs', 'host/docs']);
    expect(same.stdout).toBe('0 added, 0 removed, 0 changed; +0 B -0 B\n');
  });

  it('excludes previews what the patterns and .cairnignore files leave out', async () => {
    put(src, 'docs/.cairnignore', 'sub/\n');
    try {
      const r = await cairn(['excludes', src, ...excludes]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.slice(0, -1).sort()).toEqual(['app.log', 'build/', 'docs/sub/']);
      const preview = await previewExcludes(src, ['*.log', 'build/']);
      // app.log, and the files in the excluded folders build/ and docs/sub/.
      const leftOut = 'log'.length + 'object'.length + 'deep'.length;
      expect(preview).toMatchObject({ excluded: 3, excludedBytes: leftOut });
      expect(lines.at(-1)).toBe(
        `3 entries excluded (${leftOut} B of files); ${preview.files} files (${formatBytes(preview.bytes)}) would be backed up`,
      );
      const json = await cairn(['excludes', src, ...excludes, '--json']);
      expect(JSON.parse(json.stdout)).toEqual(preview);
      const none = await cairn(['excludes', src, '--json']);
      expect(JSON.parse(none.stdout)).toMatchObject({ excluded: 1, paths: [{ path: 'docs/sub', isDirectory: true }] });
    } finally {
      unlinkSync(join(src, 'docs/.cairnignore'));
    }
  });

  it('ls, cat and restore show a name that is not valid UTF-8 with \\xHH escapes and take that form back', async () => {
    const dir = scratch('cli-latin1');
    const name = Buffer.from('caf\xe9.txt', 'latin1');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), 'latin-1 name');
    writeFileSync(join(dir, 'caf\u00e9.txt'), 'utf-8 name');
    expect((await cairn(['backup', store, dir, '--id', 'latin1'])).code).toBe(0);
    const ls = await cairn(['ls', store, 'host/latin1']);
    expect(ls.code, ls.stderr).toBe(0);
    expect(
      ls.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.split(/\s+/).at(-1)),
    ).toEqual(['caf\u00e9.txt', 'caf\\xe9.txt']); // by name bytes: c3 a9 < e9
    const json = await cairn(['ls', store, 'host/latin1', '--json']);
    expect((JSON.parse(json.stdout) as { name: string; nameHex?: string }[]).map((e) => [e.name, e.nameHex])).toEqual([
      ['caf\u00e9.txt', undefined],
      ['caf\\xe9.txt', name.toString('hex')],
    ]);
    expect((await cairn(['cat', store, 'host/latin1', 'caf\\xe9.txt'])).stdout).toBe('latin-1 name');
    expect((await cairn(['cat', store, 'host/latin1', 'caf\u00e9.txt'])).stdout).toBe('utf-8 name');
    const out = scratch('cli-latin1-out');
    const r = await cairn(['restore', store, 'host/latin1', 'caf\\xe9.txt', '--to', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(out, { encoding: 'buffer' })).toEqual([name]);
  });

  it('reports errors as one line "cairn: error: ..." with exit code 1 and no stack trace', async () => {
    expectCliError(await cairn(['ls', store, 'host/docs', 'nope']), /"nope" is not in snapshot host\/docs\//);
    expectCliError(await cairn(['ls', store, 'host/docs', 'notes.txt']), /"notes\.txt" is not a directory/);
    expectCliError(await cairn(['ls', store, 'host/nothing']), /group host\/nothing has no finished snapshot/);
    expectCliError(
      await cairn(['ls', store, 'host/docs/2020-01-01T00:00:00Z']),
      /snapshot host\/docs\/2020-01-01T00:00:00Z does not exist/,
    );
    expectCliError(await cairn(['cat', store, 'host/docs', 'docs']), /docs is not a file/);
    expectCliError(await cairn(['cat', store, 'host/docs', 'missing.txt']), /"missing\.txt" is not in snapshot/);
    expectCliError(await cairn(['cat', store, 'host/docs', '../notes.txt']), /'\.' and '\.\.' are not allowed/);
    const missing = join(tmpdir(), 'cairn-no-such-folder-xyz');
    expectCliError(
      await cairn(['backup', store, missing, '--id', 'missing']),
      new RegExp(`cannot back up ${escape(missing)}`),
    );
    expectCliError(await cairn(['backup', store, join(src, 'notes.txt')]), /is not a folder/);
    expectCliError(await cairn(['backup', store, src, '--id', '../up']), /invalid backup id/);

    const image = join(scratch('cli-img'), 'disk.img');
    writeFileSync(image, pseudoRandomBytes(70_000, 'cli-img'));
    expect((await cairn(['backup-image', store, image, '--id', 'img'])).code).toBe(0);
    expectCliError(await cairn(['ls', store, 'host/img']), /has no archive folder\.meta\.didx/);
    expectCliError(await cairn(['diff', store, 'host/docs', 'host/img']), /has no archive folder\.meta\.didx/);

    const work = scratch('cli-symlinked');
    mkdirSync(join(work, 'outside'));
    mkdirSync(join(work, 'target'));
    symlinkSync(join(work, 'outside'), join(work, 'target/docs'));
    expectPartialRestore(
      await cairn(['restore', store, 'host/docs', '--to', join(work, 'target'), '--overwrite']),
      /warning: not restored: \/docs: refusing to restore through .*docs: it is a symlink/,
    );
    expect(readdirSync(join(work, 'outside'))).toEqual([]);

    const crafted = craftSnapshot(open(), 'crafted', [{ kind: 'file', name: '..', content: 'x' }]);
    expectCliError(await cairn(['ls', store, 'host/crafted']), /unsafe entry name/);
    expectPartialRestore(
      await cairn(['restore', store, snapshotPath(crafted), '--to', join(work, 'target')]),
      /warning: not restored: \/: .*unsafe entry name/,
    );
    expect(readdirSync(join(work, 'outside'))).toEqual([]);
  });

  it('a CLI backup fails with LOCKED while another process backs up the same group, and works once it is gone', async () => {
    const holder = await lockHolder(store, 'docs');
    const r = await cairn(['backup', store, src, '--id', 'docs']);
    expectCliError(r, new RegExp(`busy: backup of host/docs started .* by pid ${holder.pid}`));
    await holder.kill();
    const ok = await cairn(['backup', store, src, '--id', 'docs', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(
      statSync(
        join(
          open().snapshotDir(parseSnapshotPath(String((JSON.parse(ok.stdout) as { path: string }).path))),
          'index.json.blob',
        ),
      ).isFile(),
    ).toBe(true);
  });
});
