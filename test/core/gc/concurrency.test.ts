import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSnapshotPath } from '../../../core/backup/backup-names.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { collectGarbage } from '../../../core/gc/garbage-collection.js';
import { LEASES_DIR } from '../../../core/locks/lease.js';
import { LOCKS_DIR } from '../../../core/locks/process-lock.js';
import { verify } from '../../../core/verify/verify.js';
import { useDatastore } from '../../support/folder-store.js';
import { chunkDirNames } from '../../support/store-files.js';
import { treeHashes, type SnapshotRecord, type StressOptions } from '../../support/stress-records.js';
import { useChildScripts } from '../../support/processes.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { ageChunkStore } from '../../support/store-files.js';
import { encodeBlob } from '../../../core/blob/data-blob.js';
import { sha256 } from '../../../core/chunk-store/digest.js';
import { useTempDirs } from '../../support/temp.js';

const CHILD = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'dist',
  'test',
  'support',
  'stress-child.js',
);

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function run(role: string, options: StressOptions): Run {
  const child = spawn(process.execPath, [CHILD, role, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<Awaited<Run['done']>>((r) =>
    child.once('close', (code, signal) => r({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

function readRecords(dir: string): Map<string, SnapshotRecord> {
  const out = new Map<string, SnapshotRecord>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean)) {
      const record = JSON.parse(line) as SnapshotRecord;
      out.set(record.snapshot, record);
    }
  }
  return out;
}

/** Every finished snapshot verifies, and each one with a record restores to exactly the recorded files. */
async function checkEverySnapshot(
  store: Datastore,
  records: Map<string, SnapshotRecord>,
  scratch: () => string,
): Promise<number> {
  const result = await verify(store, { store: true });
  expect(
    result.snapshots.filter((s) => s.state !== 'ok'),
    JSON.stringify(result.snapshots.filter((s) => s.state !== 'ok')),
  ).toEqual([]);
  let restored = 0;
  for (const group of store.listGroups()) {
    for (const snap of store.listSnapshots(group).filter((s) => s.finished)) {
      const record = records.get(snap.path);
      if (!record) continue;
      const target = scratch();
      await restoreFolder(store, parseSnapshotPath(snap.path), join(target, 'out'));
      expect(treeHashes(join(target, 'out')), snap.path).toEqual(record.files);
      restored++;
    }
  }
  return restored;
}

describe('concurrency: backups, GC and prune in separate processes', () => {
  const ds = useDatastore();
  const scratch = useTempDirs();
  const startChild = useChildScripts();

  // Four full sweeps (65,536 folders each) beside a writer process: ~13 s alone, ~48 s beside the rest of the suite
  // on 2 cores. Each round is one more trial of the race, so the rounds stay and the time limit is doubled.
  it('a writer in another process that re-uses chunks while the sweep deletes them never loses one (touch vs. delete race)', async () => {
    const store = ds.store;
    const count = 20_000;
    const blobs = Array.from({ length: count }, (_, i) => {
      const data = pseudoRandomBytes(64, `race-${i}`);
      return { hex: Buffer.from(sha256(data)).toString('hex'), blob: encodeBlob(data, { compress: false }) };
    }).sort((a, b) => a.hex.localeCompare(b.hex));
    for (const { hex, blob } of blobs) store.chunks.insert(hex, blob);
    const work = scratch();
    let rescued = 0;
    let rewritten = 0;
    let removed = 0;
    for (let round = 0; round < 4; round++) {
      ageChunkStore(store, 3_600_000);
      const stop = join(work, `stop-${round}`);
      const go = join(work, `go-${round}`);
      // The writer walks the chunks in the sweep's order, over and over, touching each (or writing it again if
      // the sweep got there first), so the two meet at many chunks. It starts once the sweep has begun: started
      // earlier, it could touch every chunk before the sweep looks at one, and there would be no race.
      const writer = await startChild<{ ready: true }>(`
        const { Datastore } = await load('core/datastore/datastore.js');
        const { encodeBlob } = await load('core/blob/data-blob.js');
        const { sha256 } = await load('core/chunk-store/digest.js');
        const { pseudoRandomBytes } = await load('test/support/data.js');
        const { existsSync } = await import('node:fs');
        const store = Datastore.open(${JSON.stringify(store.root)});
        const session = store.startBackup({ type: 'host', id: 'race' });
        const items = Array.from({ length: ${count} }, (_, i) => {
          const data = pseudoRandomBytes(64, 'race-' + i);
          return { hex: Buffer.from(sha256(data)).toString('hex'), data };
        }).sort((a, b) => a.hex.localeCompare(b.hex));
        ready({ ready: true });
        while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 1));
        let rewritten = 0;
        while (!existsSync(${JSON.stringify(stop)})) {
          for (const { hex, data } of items) {
            if (!store.chunks.markIfPresent(hex)) { store.chunks.insert(hex, encodeBlob(data, { compress: false })); rewritten++; }
          }
          await new Promise((r) => setImmediate(r));
        }
        session.release();
        emit({ rewritten });
        process.exit(0);
      `);
      // Once the sweep is under way: the writer, faster, catches up with it and they meet from then on.
      const gc = await collectGarbage(store, {
        onProgress: (p) => {
          if (p.phase === 'sweep' && p.prefixesDone > 0 && !existsSync(go)) writeFileSync(go, '');
        },
      });
      writeFileSync(stop, '');
      expect(await writer.exited).toBe(0);
      const report = writer.lines[0] as { rewritten: number };
      rescued += gc.keptOnSecondLook;
      rewritten += report.rewritten;
      removed += gc.removedChunks;
      // Every chunk the writer counted on is there and whole.
      for (const { hex } of blobs) expect(() => store.chunks.readChunk(hex), hex).not.toThrow();
    }
    console.log(
      `race: 4 rounds × ${count} chunks: sweep removed ${removed} (the writer wrote ${rewritten} again), ${rescued} kept on the second look, none lost`,
    );
    expect(removed + rescued).toBeGreaterThan(0);
  }, 120_000);

  it('several processes back up changing trees while another runs GC in a loop and another prunes; every snapshot stays whole', async () => {
    const work = scratch();
    const stopFile = join(work, 'stop');
    const backups = ['alpha', 'beta', 'gamma'].map((id) => {
      const src = join(work, id);
      mkdirSync(src);
      return run('backup', {
        store: ds.root,
        src,
        id,
        rounds: 25,
        seed: `stress-${id}`,
        records: join(work, `${id}.jsonl`),
      });
    });
    const gc = run('gc', { store: ds.root, stopFile });
    const prune = run('prune', { store: ds.root, stopFile });
    const results = await Promise.all(backups.map((b) => b.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    writeFileSync(stopFile, '');
    const [gcDone, pruneDone] = await Promise.all([gc.done, prune.done]);
    expect(gcDone.code, gcDone.stderr).toBe(0);
    expect(pruneDone.code, pruneDone.stderr).toBe(0);
    const gcCounters = JSON.parse(gcDone.stdout) as { runs: number; removedChunks: number; keptOnSecondLook: number };
    const pruneCounters = JSON.parse(pruneDone.stdout) as { runs: number; removedSnapshots: number };
    // GC really ran beside the backups and really deleted chunks; prune really removed snapshots.
    expect(gcCounters.runs).toBeGreaterThanOrEqual(2);
    expect(pruneCounters.removedSnapshots).toBeGreaterThan(0);
    expect(gcCounters.removedChunks).toBeGreaterThan(0);
    const store = ds.store;
    const final = await collectGarbage(store);
    expect(final.missingChunks).toBe(0);
    const restored = await checkEverySnapshot(store, readRecords(work), scratch);
    expect(restored).toBeGreaterThanOrEqual(6);
    console.log(
      `concurrency: 3×25 backups, ${gcCounters.runs} GC runs (removed ${gcCounters.removedChunks} chunks, ${gcCounters.keptOnSecondLook} kept on second look), ${pruneCounters.runs} prune rounds (${pruneCounters.removedSnapshots} snapshots removed), ${restored} snapshots restored byte-identical`,
    );
  });

  it('kill -9 of backups, GCs and prunes at random moments: the store opens, locks are taken over, finished snapshots are whole, GC cleans up', async () => {
    const work = scratch();
    const src = join(work, 'src');
    mkdirSync(src);
    // A few finished snapshots to protect.
    const seedRun = run('backup', {
      store: ds.root,
      src,
      id: 'crash',
      rounds: 3,
      seed: 'crash-seed',
      records: join(work, 'seed.jsonl'),
    });
    expect((await seedRun.done).code).toBe(0);
    const roles = ['backup', 'gc', 'prune'] as const;
    let kills = 0;
    for (let i = 0; i < 18; i++) {
      const role = roles[i % 3]!;
      const child = run(role, {
        store: ds.root,
        src,
        id: 'crash',
        rounds: 50,
        seed: `crash-${i}`,
        records: join(work, `killed-${i}.jsonl`),
        // A killed backup may have finished a snapshot without writing its record (at most one per process, six
        // backup processes): keeping 8 leaves at least 2 recorded ones to restore, whatever the timing.
        keepLast: 8,
      });
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 1200)));
      if (child.child.exitCode === null) {
        child.child.kill('SIGKILL');
        kills++;
      }
      const end = await child.done;
      if (end.signal !== 'SIGKILL') expect(end.code, end.stderr).toBe(0);
    }
    expect(kills).toBeGreaterThanOrEqual(12);
    const store = Datastore.open(ds.root);
    // The killed backup's group lock and lease are taken over at once: a new backup runs.
    const after = run('backup', {
      store: ds.root,
      src,
      id: 'crash',
      rounds: 1,
      seed: 'after',
      records: join(work, 'after.jsonl'),
    });
    const afterEnd = await after.done;
    expect(afterEnd.code, afterEnd.stderr).toBe(0);
    const restored = await checkEverySnapshot(store, readRecords(work), scratch);
    expect(restored).toBeGreaterThanOrEqual(3);
    // Leftovers age past the safety margin, then one GC removes them.
    await new Promise((r) => setTimeout(r, 2_500));
    const gc = await collectGarbage(store);
    expect(gc.missingChunks).toBe(0);
    expect(chunkDirNames(store, /\.(tmp_|gc$)/)).toEqual([]);
    expect(store.listSnapshots({ type: 'host', id: 'crash' }).filter((s) => !s.finished)).toEqual([]);
    const groupDir = store.groupDir({ type: 'host', id: 'crash' });
    expect(readdirSync(groupDir).filter((n) => n.startsWith('.'))).toEqual([]);
    for (const snap of store.listSnapshots({ type: 'host', id: 'crash' })) {
      expect(readdirSync(store.snapshotDir(snap)).filter((n) => n.includes('.tmp_'))).toEqual([]);
    }
    const leases = join(ds.root, LOCKS_DIR, LEASES_DIR);
    expect(existsSync(leases) ? store.liveWriters() : []).toEqual([]);
    console.log(
      `crash: ${kills} processes killed with SIGKILL; ${restored} snapshots restored byte-identical; final GC removed ${gc.removedTmp} leftovers and ${gc.removedUnfinished} unfinished snapshots`,
    );
  });
});
