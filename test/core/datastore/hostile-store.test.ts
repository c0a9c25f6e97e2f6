import {
  existsSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_ARCHIVE } from '../../../core/archive/archive-format.js';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { MANIFEST_NAME } from '../../../core/backup/manifest.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { collectGarbage } from '../../../core/gc/garbage-collection.js';
import { openIndex } from '../../../core/index/index-reader.js';
import { forgetSnapshot } from '../../../core/prune/forget.js';
import { verify } from '../../../core/verify/verify.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { cairn, type CliResult } from '../../support/processes.js';
import { ageChunkStore } from '../../support/store-files.js';
import { mkfifo, put } from '../../support/tree.js';
import { tempDir, storeTempRoot, useTempDirs } from '../../support/temp.js';

/** Long enough for any of these commands on this tiny store; a command that blocks on a FIFO or /dev/zero never ends. */
const HANG_MS = 15_000;

interface Fixture {
  base: string;
  store: string;
  src: string;
  snapshotDir: string;
  /** The store path of the big file's first payload chunk. */
  chunkPath: string;
}

describe('a store with a FIFO or a symlink to /dev/zero inside: every command ends at once with a clear answer', () => {
  const bases: string[] = [];
  afterEach(() => {
    for (const b of bases.splice(0)) rmSync(b, { recursive: true, force: true });
  });

  async function fixture(): Promise<Fixture> {
    const base = tempDir('hostile', storeTempRoot());
    bases.push(base);
    const store = join(base, 'store');
    const src = join(base, 'src');
    put(src, 'big.bin', pseudoRandomBytes(3 * 1024 * 1024, 'hostile'));
    put(src, 'docs/a.txt', 'a small file');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    const backup = await cairn(['backup', store, src, '--id', 's']);
    expect(backup.code, backup.stderr).toBe(0);
    const ds = Datastore.open(store);
    const snap = ds.latestSnapshot({ type: 'host', id: 's' })!;
    const snapshotDir = ds.snapshotDir(snap);
    const digest = openIndex(join(snapshotDir, DATA_ARCHIVE)).digest(0);
    return { base, store, src, snapshotDir, chunkPath: ds.chunks.chunkPath(digest) };
  }

  const hazards: [string, (f: Fixture) => string][] = [
    [
      'a FIFO in place of a chunk',
      (f) => {
        unlinkSync(f.chunkPath);
        mkfifo(f.chunkPath);
        return f.chunkPath;
      },
    ],
    [
      'a symlink to /dev/zero in place of a chunk',
      (f) => {
        unlinkSync(f.chunkPath);
        symlinkSync('/dev/zero', f.chunkPath);
        return f.chunkPath;
      },
    ],
    [
      'a FIFO in place of an index',
      (f) => {
        const p = join(f.snapshotDir, DATA_ARCHIVE);
        unlinkSync(p);
        mkfifo(p);
        return p;
      },
    ],
    [
      'a symlink to /dev/zero in place of the manifest',
      (f) => {
        const p = join(f.snapshotDir, MANIFEST_NAME);
        renameSync(p, `${p}.gone`);
        symlinkSync('/dev/zero', p);
        return p;
      },
    ],
  ];

  /** Ends well inside the limit, and either succeeds or says in one line what is wrong. */
  function expectAnswer(r: CliResult, what: string): void {
    expect(r.timedOut, `${what} hung`).toBe(false);
    expect(r.signal, what).toBeNull();
    if (r.code !== 0) {
      expect(r.code, `${what}: ${r.stderr}`).toBe(1);
      expect(r.stderr, what).toMatch(/^cairn: error: /m);
      expect(r.stderr, what).not.toMatch(/\n\s+at /);
    }
  }

  for (const [label, plant] of hazards) {
    it(label, async () => {
      const f = await fixture();
      const planted = plant(f);
      const named = new RegExp(
        `${planted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is (a FIFO \\(named pipe\\), not a regular file|a symlink)`,
      );
      const reads: string[][] = [
        ['cat', f.store, 'host/s', 'big.bin'],
        ['restore', f.store, 'host/s', '--to', join(f.base, 'out')],
        ['ls', f.store, 'host/s'],
        ['diff', f.store, 'host/s', 'host/s'],
        ['verify', f.store],
      ];
      for (const args of reads) {
        const r = await cairn(args, { timeoutMs: HANG_MS });
        expectAnswer(r, args[0]!);
        if (args[0] === 'cat' || args[0] === 'restore') expect(r.stderr, args[0]).toMatch(named);
      }
      const verify = await cairn(['verify', f.store, '--json'], { timeoutMs: HANG_MS });
      expect(verify.code, verify.stderr).toBe(1);
      expect(verify.stdout).toMatch(named);

      // A backup and GC end too; the backup moves a planted chunk aside and writes the chunk anew.
      const backup = await cairn(['backup', f.store, f.src, '--id', 's', '--json'], { timeoutMs: HANG_MS });
      expectAnswer(backup, 'backup');
      expect(backup.code, backup.stderr).toBe(0);
      const fresh = (JSON.parse(backup.stdout) as { path: string }).path;
      expectAnswer(await cairn(['gc', f.store], { timeoutMs: HANG_MS }), 'gc');
      expect(readdirSync(f.base).sort()).toEqual(expect.arrayContaining(['src', 'store']));
      const newest = await cairn(['verify', f.store, fresh], { timeoutMs: HANG_MS });
      expectAnswer(newest, 'verify of the newest snapshot');
      expect(newest.code, newest.stdout + newest.stderr).toBe(0);
    });
  }
});

describe('symlinks inside the store never lead GC, forget, prune or delete-group outside it', () => {
  const bases: string[] = [];
  afterEach(() => {
    for (const b of bases.splice(0)) rmSync(b, { recursive: true, force: true });
  });

  /** A store with one backup, and beside it an `outside` folder that must come through untouched. */
  async function storeAndOutside(): Promise<{
    base: string;
    store: string;
    outside: string;
    ds: Datastore;
    old: Date;
  }> {
    const base = tempDir('symlinked', storeTempRoot());
    bases.push(base);
    const store = join(base, 'store');
    const src = join(base, 'src');
    put(src, 'a.bin', pseudoRandomBytes(300_000, 'symlinked'));
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    expect((await cairn(['backup', store, src, '--id', 'real'])).code).toBe(0);
    return {
      base,
      store,
      outside: join(base, 'outside'),
      ds: Datastore.open(store),
      old: new Date(Date.now() - 7 * 86_400_000),
    };
  }

  function listOutside(outside: string): string[] {
    return (readdirSync(outside, { recursive: true }) as string[]).sort();
  }

  it('a .chunks prefix folder that is a symlink: GC sweeps the rest and deletes nothing behind it', async () => {
    const f = await storeAndOutside();
    const victims = join(f.outside, 'victims');
    const names = ['abcd'.padEnd(64, '0'), 'abcd'.padEnd(64, '1')];
    for (const n of names) {
      put(victims, n, 'not a chunk of this store');
      utimesSync(join(victims, n), f.old, f.old);
    }
    const prefix = join(f.ds.chunks.chunksDir, 'abcd');
    rmSync(prefix, { recursive: true });
    symlinkSync(victims, prefix);
    const before = listOutside(f.outside);
    const gc = await cairn(['gc', f.store, '--json'], { timeoutMs: 60_000 });
    expect(gc.code, gc.stderr).toBe(0);
    expect((JSON.parse(gc.stdout) as { warnings: string[] }).warnings.join('\n')).toMatch(
      new RegExp(`did not sweep ${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: it is a symlink`),
    );
    expect(listOutside(f.outside)).toEqual(before);
    expect((await cairn(['verify', f.store])).code).toBe(0);
  });

  const layouts: [
    string,
    (f: Awaited<ReturnType<typeof storeAndOutside>>) => { link: string; group: string; snapshot: string },
  ][] = [
    [
      'a type folder (vm/) that is a symlink',
      (f) => {
        const snap = join(f.outside, 'vm', 'victim', '2020-01-01T00:00:00Z');
        put(snap, 'folder.data.didx', 'precious');
        symlinkSync(join(f.outside, 'vm'), join(f.store, 'vm'));
        return { link: 'vm', group: 'vm/victim', snapshot: 'vm/victim/2020-01-01T00:00:00Z' };
      },
    ],
    [
      'a group folder that is a symlink',
      (f) => {
        const snap = join(f.outside, 'g', '2020-01-01T00:00:00Z');
        put(snap, 'folder.data.didx', 'precious');
        symlinkSync(join(f.outside, 'g'), join(f.store, 'host', 'linked'));
        return { link: 'host/linked', group: 'host/linked', snapshot: 'host/linked/2020-01-01T00:00:00Z' };
      },
    ],
    [
      'a snapshot folder that is a symlink',
      (f) => {
        const snap = join(f.outside, 'snap');
        put(snap, 'folder.data.didx', 'precious');
        symlinkSync(snap, join(f.store, 'host', 'real', '2020-01-01T00:00:00Z'));
        return {
          link: 'host/real/2020-01-01T00:00:00Z',
          group: 'host/real',
          snapshot: 'host/real/2020-01-01T00:00:00Z',
        };
      },
    ],
  ];
  for (const [label, plant] of layouts) {
    it(`${label}: GC stops before deleting anything, and nothing removes what is behind it`, async () => {
      const f = await storeAndOutside();
      const { link, group, snapshot } = plant(f);
      for (const dir of listOutside(f.outside)) utimesSync(join(f.outside, dir), f.old, f.old);
      const before = listOutside(f.outside);
      const gc = await cairn(['gc', f.store], { timeoutMs: 60_000 });
      expect(gc.code).toBe(1);
      expect(gc.stderr).toMatch(
        new RegExp(
          `GC stopped before deleting anything: ${link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in .* is a symlink`,
        ),
      );
      for (const args of [
        ['forget', f.store, snapshot],
        ['prune', f.store, group, '--keep-last', '1'],
        ['delete-group', f.store, group],
      ]) {
        const r = await cairn(args, { timeoutMs: 60_000 });
        expect(r.timedOut, args[0]).toBe(false);
        expect(listOutside(f.outside), args.join(' ')).toEqual(before);
      }
      expect(existsSync(join(f.store, link))).toBe(true);
      // The store's own snapshot is untouched and whole.
      expect((await cairn(['verify', f.store, 'host/real'])).code).toBe(0);
    });
  }
});

describe('an index nobody can read does not stop GC', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();

  it('GC passes over a damaged index (finished or abandoned snapshot) with advice that works, and frees the rest', async () => {
    const keep = await backupFolder(ds.store, treeOf(scratch('keep'), 'keep'), { id: 'keep' });
    const broken = await backupFolder(ds.store, treeOf(scratch('broken'), 'broken'), { id: 'broken' });
    const orphan = await backupFolder(ds.store, treeOf(scratch('orphan'), 'orphan'), { id: 'orphan' });
    forgetSnapshot(ds.store, orphan.snapshot);
    const brokenIndex = join(ds.store.snapshotDir(broken.snapshot), DATA_ARCHIVE);
    truncateSync(brokenIndex, 100);
    // An abandoned unfinished snapshot with a damaged index too.
    const abandoned = join(ds.store.groupDir({ type: 'host', id: 'keep' }), '2020-01-01T00:00:00Z');
    put(abandoned, 'folder.meta.didx', 'not an index');
    const old = new Date(Date.now() - 86_400_000);
    utimesSync(abandoned, old, old);
    ageChunkStore(ds.store, 86_400_000);

    const result = await collectGarbage(ds.store);
    expect(result.completed).toBe(true);
    expect(result.unreadableIndexes).toBe(2);
    expect(result.removedChunks).toBeGreaterThan(0);
    expect(result.removedUnfinished).toBe(1);
    const advice = result.warnings.find((w) => w.includes(brokenIndex))!;
    expect(advice).toMatch(new RegExp(`truncated .*remove the snapshot with 'cairn forget ${ds.root} ${broken.path}'`));
    expect((await verify(ds.store, { snapshot: keep.snapshot })).ok).toBe(true);
    // The status says so in words too, not only in its JSON.
    expect((await cairn(['status', ds.root])).stdout).toMatch(
      /\n {2}damaged\s+2 index files could not be read at the last GC/,
    );
    const forget = await cairn(['forget', ds.root, broken.path]);
    expect(forget.code, forget.stderr).toBe(0);
    expect(ds.store.listSnapshots({ type: 'host', id: 'broken' })).toEqual([]);
  });
});

function treeOf(dir: string, seed: string): string {
  put(dir, 'big.bin', pseudoRandomBytes(700_000, seed));
  put(dir, 'small.txt', `small ${seed}`);
  return dir;
}
