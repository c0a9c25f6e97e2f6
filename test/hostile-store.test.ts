import { mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_ARCHIVE } from '../core/archive/archive-format.js';
import { MANIFEST_NAME } from '../core/backup/manifest.js';
import { Datastore } from '../core/datastore/datastore.js';
import { openIndex } from '../core/index/index-reader.js';
import { pseudoRandomBytes } from './support/data.js';
import { storeTempRoot } from './support/folder-store.js';
import { cairn, type CliResult } from './support/processes.js';
import { mkfifo, put } from './support/tree.js';

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
    const base = mkdtempSync(join(storeTempRoot(), 'cairn-hostile-'));
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
    ['a FIFO in place of a chunk', (f) => { unlinkSync(f.chunkPath); mkfifo(f.chunkPath); return f.chunkPath; }],
    ['a symlink to /dev/zero in place of a chunk', (f) => { unlinkSync(f.chunkPath); symlinkSync('/dev/zero', f.chunkPath); return f.chunkPath; }],
    ['a FIFO in place of an index', (f) => { const p = join(f.snapshotDir, DATA_ARCHIVE); unlinkSync(p); mkfifo(p); return p; }],
    ['a symlink to /dev/zero in place of the manifest', (f) => {
      const p = join(f.snapshotDir, MANIFEST_NAME);
      renameSync(p, `${p}.gone`);
      symlinkSync('/dev/zero', p);
      return p;
    }],
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
      const named = new RegExp(`${planted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is (a FIFO \\(named pipe\\), not a regular file|a symlink)`);
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
