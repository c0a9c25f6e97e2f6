import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { Bucket } from '../../../core/remote/bucket.js';
import { pullSnapshots } from '../../../core/remote/pull.js';
import { collectRemoteGarbage } from '../../../core/remote/remote-gc.js';
import type { Remote } from '../../../core/remote/remote-book.js';
import { listRemoteSnapshots } from '../../../core/remote/remote-snapshots.js';
import { verify } from '../../../core/verify/verify.js';
import { createBucket } from '../../support/ceph.js';
import { useCephGateway } from '../../support/ceph-gateway.js';
import { useChildScripts, type ChildHandle } from '../../support/processes.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';

const gw = useCephGateway();

/** One SHA-256 over a flat folder's file names and contents: what a pusher backed up, and what a restore gave. */
const TREE_DIGEST = `(dir) => {
  const { readdirSync, readFileSync } = process.getBuiltinModule('node:fs');
  const { createHash } = process.getBuiltinModule('node:crypto');
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(name + '\\0').update(readFileSync(dir + '/' + name));
  return hash.digest('hex');
}`;
const treeDigest = (dir: string): string => {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(`${name}\0`).update(readFileSync(join(dir, name)));
  return hash.digest('hex');
};

const stderrs = new WeakMap<ChildHandle<unknown>, string[]>();
/** What a child wrote to stderr, for the message of a failed expectation. */
function watchStderr<T>(handle: ChildHandle<T>): ChildHandle<T> {
  const lines: string[] = [];
  handle.child.stderr?.on('data', (d: string) => lines.push(d));
  stderrs.set(handle as ChildHandle<unknown>, lines);
  return handle;
}
const stderrOf = (handle: ChildHandle<unknown>): string => (stderrs.get(handle) ?? []).join('').slice(-2000);

describe('pushes from several processes and a remote GC in a loop, against a real Ceph gateway', () => {
  const temp = useTempDirs();
  const startChild = useChildScripts();

  /**
   * A process that backs up a changing folder and pushes each snapshot, `rounds` times: a file all pushers share
   * (the same chunks from several stores), one of its own per round. It prints each snapshot with its tree's digest
   * before pushing it, so a push killed midway is still accounted for.
   */
  async function pusher(
    remote: Remote,
    dir: string,
    id: string,
    rounds: number,
  ): Promise<ChildHandle<{ ready: true }>> {
    return watchStderr(
      await startChild(`
      const { Datastore } = await load('core/datastore/datastore.js');
      const { backupFolder } = await load('core/archive/folder-backup.js');
      const { Bucket } = await load('core/remote/bucket.js');
      const { pushSnapshots } = await load('core/remote/push.js');
      const { pseudoRandomBytes } = await load('test/support/data.js');
      const { mkdirSync, writeFileSync, rmSync, existsSync } = await import('node:fs');
      const treeDigest = ${TREE_DIGEST};
      const dir = ${JSON.stringify(dir)};
      const root = dir + '/store', src = dir + '/src';
      const store = existsSync(root) ? Datastore.open(root) : await Datastore.create(root, { syncLevel: 'none' });
      mkdirSync(src, { recursive: true });
      const bucket = new Bucket(${JSON.stringify(remote)}, ${JSON.stringify({ accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey })});
      ready({ ready: true });
      for (let round = 0; round < ${rounds}; round++) {
        writeFileSync(src + '/shared.bin', pseudoRandomBytes(600_000, 'shared-' + Math.floor(round / 3)));
        writeFileSync(src + '/own-' + round + '.bin', pseudoRandomBytes(300_000, ${JSON.stringify(id)} + '-' + round + '-' + Math.random()));
        rmSync(src + '/own-' + (round - 2) + '.bin', { force: true });
        const result = await backupFolder(store, src, { id: ${JSON.stringify(id)}, workers: 0 });
        emit({ snapshot: result.path, digest: treeDigest(src) });
        // Every finished snapshot, as a plan pushes: those the remote pruned meanwhile must not be sent again.
        const mine = store.listSnapshots({ type: 'host', id: ${JSON.stringify(id)} }).filter((s) => s.finished);
        await pushSnapshots(store, bucket, mine);
        await new Promise((r) => setTimeout(r, 200));
      }
      process.exit(0);
    `),
    );
  }

  /** Remote prune (keep 2 of each group) and GC with no minimum age, over and over until told to stop. */
  async function collector(remote: Remote, stopFile: string): Promise<ChildHandle<{ ready: true }>> {
    return watchStderr(
      await startChild(`
      const { Bucket } = await load('core/remote/bucket.js');
      const { collectRemoteGarbage } = await load('core/remote/remote-gc.js');
      const { pruneRemoteGroup } = await load('core/remote/remote-prune.js');
      const { existsSync } = await import('node:fs');
      const bucket = () => new Bucket(${JSON.stringify(remote)}, ${JSON.stringify({ accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey })});
      ready({ ready: true });
      const runs = { swept: 0, backedOff: 0, removed: 0, pruned: 0 };
      while (!existsSync(${JSON.stringify(stopFile)})) {
        for (const id of ['alpha', 'beta', 'killed']) {
          const outcomes = await pruneRemoteGroup(bucket(), { type: 'host', id }, { keepLast: 2 });
          runs.pruned += outcomes.filter((o) => o.outcome === 'removed').length;
        }
        const gc = await collectRemoteGarbage(bucket(), { minAgeMs: 0 });
        if (gc.outcome === 'swept') runs.swept++; else runs.backedOff++;
        runs.removed += gc.chunksRemoved;
        await new Promise((r) => setTimeout(r, 100));
      }
      emit(runs);
      process.exit(0);
    `),
    );
  }

  it('every snapshot left on the remote pulls, verifies and restores byte for byte, a pusher killed with SIGKILL included', async () => {
    const name = `concurrency-${randomBytes(4).toString('hex')}`;
    await createBucket(gw, name);
    const remote: Remote = {
      name: 'c',
      endpoint: gw.endpoint,
      region: gw.region,
      bucket: name,
      prefix: 'p/',
      pathStyle: true,
    };
    const work = temp('remote-concurrency', storeTempRoot());
    const stopFile = join(work, 'stop');
    const gc = await collector(remote, stopFile);
    const pushers = [
      await pusher(remote, join(work, 'alpha'), 'alpha', 6),
      await pusher(remote, join(work, 'beta'), 'beta', 6),
    ];
    // A third pusher is killed mid-round four times, and started again on its store each time.
    const killedLines: unknown[] = [];
    for (let k = 0; k < 4; k++) {
      const victim = await pusher(remote, join(work, 'killed'), 'killed', 3);
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 1200));
      await victim.kill();
      killedLines.push(...victim.lines);
    }
    const last = await pusher(remote, join(work, 'killed'), 'killed', 2);
    for (const p of [...pushers, last]) expect(await p.exited, stderrOf(p)).toBe(0);
    killedLines.push(...last.lines);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(stopFile, '');
    expect(await gc.exited, stderrOf(gc)).toBe(0);
    const runs = gc.lines[0] as { swept: number; backedOff: number; removed: number; pruned: number };

    const expected = new Map<string, string>();
    for (const line of [...pushers.flatMap((p) => p.lines), ...killedLines])
      expected.set((line as { snapshot: string }).snapshot, (line as { digest: string }).digest);
    const bucket = new Bucket(remote, { accessKeyId: gw.accessKeyId, secretAccessKey: gw.secretAccessKey });
    // Sweeps beside the pushers mostly back off (a killed pusher's session stays live for 10 minutes); with those
    // sessions gone, as 10 minutes later, one more sweep frees what the prunes left.
    for await (const page of bucket.list('.cairn/sessions/')) await bucket.deleteMany(page.map((o) => o.key));
    const final = await collectRemoteGarbage(bucket, { minAgeMs: 0 });
    expect(final.outcome).toBe('swept');
    expect(runs.removed + final.chunksRemoved).toBeGreaterThan(0);
    const there = (await listRemoteSnapshots(bucket)).filter((s) => s.finished);
    expect(there.length).toBeGreaterThanOrEqual(5); // two kept of each group at the least, once pushed
    const fresh = await Datastore.create(join(work, 'fresh'), { syncLevel: 'none' });
    expect((await pullSnapshots(bucket, fresh, there)).pulled.length).toBe(there.length);
    expect((await verify(fresh, { store: true })).ok).toBe(true);
    for (const snap of there) {
      const out = join(work, 'out', snap.path.replaceAll('/', '_'));
      await restoreFolder(fresh, fresh.snapshotInfo(snap), out);
      expect(treeDigest(out), snap.path).toBe(expected.get(snap.path));
    }
    console.log(
      `remote concurrency: ${expected.size} snapshots pushed by 3 processes (one killed 4 times), ${runs.swept} GC sweeps ` +
        `(${runs.removed} chunks removed), ${runs.backedOff} backed off, ${runs.pruned} pruned, a last sweep removed ${final.chunksRemoved}; ${there.length} left, all restored byte for byte`,
    );
    expect(runs.swept + runs.backedOff).toBeGreaterThan(0);
  }, 300_000);
});
