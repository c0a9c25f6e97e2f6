import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { collectGarbage } from '../../../core/gc/garbage-collection.js';
import { forgetSnapshot } from '../../../core/prune/forget.js';
import { verify } from '../../../core/verify/verify.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { cairn, removeFaketimeLeftovers, skewedClock, useChildScripts } from '../../support/processes.js';
import { ageChunkStore } from '../../support/store-files.js';
import { craftSnapshot } from '../../support/crafted.js';
import { expectSameTree, put } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

const DAY = 86_400_000;
const SKEWS = ['-3s', '+3s', '-1h', '+1h'];

/** A source tree of `files` files of 200 KB, seeded so that no two trees of these tests share a chunk. */
function tree(dir: string, seed: string, files = 12): string {
  for (let i = 0; i < files; i++) put(dir, `d${i % 3}/f${i}.bin`, pseudoRandomBytes(200_000, `${seed}-${i}`));
  return dir;
}

/**
 * GC and writers on computers whose clocks disagree (docs/GC.md, "Clocks"): each case runs GC and a backup in
 * processes of their own, one of them with its clock moved by libfaketime, and checks that no chunk the backup
 * needs is deleted.
 */
describe('GC with writers whose clocks disagree with its own, by seconds or hours, either way', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();
  const start = useChildScripts();
  let n = 0;
  afterAll(removeFaketimeLeftovers);

  /**
   * Orphaned chunks a new backup will reuse: a tree backed up, its snapshot forgotten, and every stamp a day
   * old, so GC deletes whatever nobody touches. One more file's chunks are orphaned for good: GC must remove them.
   */
  async function orphanedTree(seed: string): Promise<string> {
    const src = tree(scratch(seed), seed);
    const doomed = scratch(`${seed}-doomed`);
    put(doomed, 'only-here.bin', pseudoRandomBytes(900_000, `${seed}-doomed`));
    for (const dir of [src, doomed]) {
      const r = await backupFolder(ds.store, dir, { id: `orphan-${++n}` });
      forgetSnapshot(ds.store, r.snapshot);
    }
    ageChunkStore(ds.store, DAY);
    return src;
  }

  /**
   * A GC in a process of its own that stops when its mark phase is over, before it sweeps, until `go` exists:
   * a backup that runs meanwhile is neither among the writers GC saw at its start nor marked by it, so only
   * the stamps it sets keep its chunks.
   */
  async function pausedGc(go: string, env: NodeJS.ProcessEnv = {}) {
    return start<{ paused: boolean }>(
      `
      const { existsSync } = await import('node:fs');
      const { Datastore } = await load('core/datastore/datastore.js');
      const { collectGarbage } = await load('core/gc/garbage-collection.js');
      const store = Datastore.open(${JSON.stringify(ds.root)});
      let paused = false;
      const result = await collectGarbage(store, { progressIntervalMs: 0, onProgress: (p) => {
        if (paused || p.phase !== 'sweep') return;
        paused = true;
        ready({ paused });
        while (!existsSync(${JSON.stringify(go)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      } });
      emit({ removedChunks: result.removedChunks, missingChunks: result.missingChunks, writersAtStart: result.writersAtStart });
      process.exit(0);
    `,
      { env },
    );
  }

  async function expectWhole(snapshotPath: string, src: string): Promise<void> {
    const [type, id, time] = snapshotPath.split('/');
    const ref = { type: type as 'host', id: id!, time: Date.parse(time!) / 1000 };
    const result = await verify(ds.store, { snapshot: ref });
    expect(result.snapshots[0], JSON.stringify(result.snapshots[0]?.problems.slice(0, 3))).toMatchObject({
      state: 'ok',
    });
    const out = scratch('out');
    await restoreFolder(ds.store, ref, out);
    expectSameTree(src, out);
  }

  for (const skew of SKEWS) {
    it(`a backup whose clock is ${skew} off GC's, started after GC, keeps the orphaned chunks it reuses`, async () => {
      const src = await orphanedTree(`after-${skew}`);
      const go = join(scratch('go'), 'go');
      const gc = await pausedGc(go);
      const backup = await cairn(['backup', ds.root, src, '--id', `late-${++n}`, '--json'], { env: skewedClock(skew) });
      expect(backup.code, backup.stderr).toBe(0);
      writeFileSync(go, '');
      expect(await gc.exited).toBe(0);
      const outcome = gc.lines[0] as { removedChunks: number; writersAtStart: number };
      expect(outcome.writersAtStart).toBe(0);
      expect(outcome.removedChunks, 'the sweep deleted the chunks nobody reused').toBeGreaterThan(0);
      await expectWhole((JSON.parse(backup.stdout) as { path: string }).path, src);
    });
  }

  for (const skew of SKEWS) {
    it(`a GC whose clock is ${skew} off the backup's keeps the orphaned chunks a backup started after it reuses`, async () => {
      const src = await orphanedTree(`gc-${skew}`);
      const go = join(scratch('go'), 'go');
      const gc = await pausedGc(go, skewedClock(skew));
      const backup = await cairn(['backup', ds.root, src, '--id', `late-${++n}`, '--json']);
      expect(backup.code, backup.stderr).toBe(0);
      writeFileSync(go, '');
      expect(await gc.exited).toBe(0);
      expect((gc.lines[0] as { removedChunks: number }).removedChunks).toBeGreaterThan(0);
      await expectWhole((JSON.parse(backup.stdout) as { path: string }).path, src);
    });
  }

  for (const skew of SKEWS) {
    it(`a backup whose clock is ${skew} off, running when GC starts, keeps the chunks it wrote before`, async () => {
      const src = tree(scratch(`running-${skew}`), `running-${skew}`, 24);
      const go = join(scratch('go'), 'go');
      const writer = await start<{ paused: boolean }>(
        `
        const { existsSync } = await import('node:fs');
        const { Datastore } = await load('core/datastore/datastore.js');
        const { backupFolder } = await load('core/archive/folder-backup.js');
        const store = Datastore.open(${JSON.stringify(ds.root)});
        let paused = false;
        const result = await backupFolder(store, ${JSON.stringify(src)}, { id: 'running-${++n}', workers: 0, progressIntervalMs: 0,
          onProgress: (p) => {
            if (paused || p.phase !== 'backing-up' || p.filesDone < 12) return;
            paused = true;
            ready({ paused });
            while (!existsSync(${JSON.stringify(go)})) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
          } });
        emit({ path: result.path });
        process.exit(0);
      `,
        { env: skewedClock(skew) },
      );
      // Half the tree's chunks are written; GC starts well past its margin after them.
      await new Promise((r) => setTimeout(r, 3_500));
      const result = await collectGarbage(ds.store);
      expect(result.writersAtStart).toBe(1);
      writeFileSync(go, '');
      expect(await writer.exited).toBe(0);
      await expectWhole((writer.lines[0] as { path: string }).path, src);
    });
  }

  it("libfaketime moves a child's clock and nothing else", async () => {
    const child = await start<{ now: number; stamp: number }>(
      `
      const { writeFileSync, statSync, unlinkSync } = await import('node:fs');
      const path = ${JSON.stringify(join(scratch('probe'), 'f'))};
      writeFileSync(path, '');
      ready({ now: Date.now(), stamp: statSync(path).mtimeMs });
      unlinkSync(path);
    `,
      { env: skewedClock('-1h') },
    );
    expect(child.message.stamp - child.message.now).toBeGreaterThan(3_599_000);
    expect(Math.abs(child.message.stamp - Date.now())).toBeLessThan(10_000);
    expect(existsSync(join(scratch('probe'), 'f'))).toBe(false);
  });

  it("a backup whose clock is a year ahead is named by the store's clock, with a warning", async () => {
    const src = tree(scratch('year-ahead'), 'year-ahead', 2);
    const backup = await cairn(['backup', ds.root, src, '--id', 'year-ahead', '--json'], { env: skewedClock('+365d') });
    expect(backup.code, backup.stderr).toBe(0);
    const result = JSON.parse(backup.stdout) as { path: string; warnings: string[] };
    expect(result.warnings.join('\n')).toMatch(
      /this computer's clock is 365 days ahead of the store's; the snapshot is named by the store's clock/,
    );
    const time = Date.parse(result.path.split('/')[2]!);
    expect(Math.abs(time - Date.now())).toBeLessThan(60_000);
  });

  it('a group whose newest snapshot is dated a year ahead: the next backups are named by the real time, and prune keeps them apart', async () => {
    const group = { type: 'host' as const, id: 'poisoned' };
    const yearAhead = Math.floor(Date.now() / 1000) + 365 * 86_400;
    craftSnapshot(ds.store, group.id, [{ kind: 'file', name: 'a', content: 'from the future' }], { time: yearAhead });
    const src = tree(scratch('poisoned'), 'poisoned', 2);
    const backup = await cairn(['backup', ds.root, src, '--id', group.id, '--json']);
    expect(backup.code, backup.stderr).toBe(0);
    const result = JSON.parse(backup.stdout) as { path: string; warnings: string[] };
    expect(result.warnings.join('\n')).toMatch(
      /the group's newest snapshot is dated .*, 365 days in the future .*; this snapshot is named by the real time/,
    );
    const path = result.path;
    expect(Math.abs(Date.parse(path.split('/')[2]!) - Date.now())).toBeLessThan(60_000);
    const prune = await cairn(['prune', ds.root, 'host/poisoned', '--keep-last', '1', '--json']);
    expect(prune.code, prune.stderr).toBe(0);
    const marks = (
      JSON.parse(prune.stdout) as { snapshots: { snapshot: { path: string }; mark: string }[] }
    ).snapshots.map((o) => [o.snapshot.path, o.mark]);
    expect(marks).toEqual([
      [expect.stringMatching(/^host\/poisoned\//), 'keep-future'],
      [path, 'keep'],
    ]);
  });
});
