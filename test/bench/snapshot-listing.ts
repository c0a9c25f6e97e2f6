// A group of many snapshots listed as the app lists it: `snapshots.list` through the host service (its query
// worker reads and caches the manifests, the rows come back across the thread). Goal: 100,000 snapshots in one
// group listed in < 1 s after the first open. CAIRN_BENCH_SNAPSHOTS sets the count (default 100,000).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotRow } from '../../contract/model.js';
import { encodeManifest, MANIFEST_NAME, newManifest } from '../../core/backup/manifest.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

/** Finished snapshots, hourly, written directly (a backup per snapshot would take hours; beginSnapshot lists the group). */
function writeSnapshots(store: Datastore, count: number): void {
  const group = { type: 'host' as const, id: 'many' };
  mkdirSync(store.groupDir(group), { recursive: true });
  const csum = 'ab'.repeat(32);
  for (let i = 0; i < count; i++) {
    const ref = { ...group, time: 1_600_000_000 + i * 3600 };
    mkdirSync(store.snapshotDir(ref));
    const manifest = newManifest(ref);
    manifest.files.push(
      { filename: 'root.mpxar.didx', 'crypt-mode': 'none', size: 40_000 + i, csum },
      { filename: 'root.ppxar.didx', 'crypt-mode': 'none', size: 400_000_000 + i, csum },
    );
    manifest.unprotected['cairn-backup'] = { kind: 'folder', files: i, bytes: i * 1000, newBytes: 10, dedupBytes: i };
    writeFileSync(join(store.snapshotDir(ref), MANIFEST_NAME), encodeManifest(manifest));
  }
}

async function timedList(service: HostService, store: string): Promise<{ seconds: number; rows: number }> {
  const t = performance.now();
  const r = await service.handle('snapshots.list', { store, group: { type: 'host', id: 'many' } });
  if (!r.ok) throw new Error(r.error.message);
  return { seconds: (performance.now() - t) / 1000, rows: (r.value as SnapshotRow[]).length };
}

export async function snapshotListingBench(): Promise<void> {
  const count = Number(process.env.CAIRN_BENCH_SNAPSHOTS ?? 100_000);
  const dir = tempDir('bench-snapshots', storeTempRoot());
  try {
    const root = join(dir, 'store');
    writeSnapshots(await Datastore.create(root, { syncLevel: 'none' }), count);
    console.log(`\n== ${count.toLocaleString('en')} snapshots in one group, listed through the app's host ==`);
    const service = new HostService({ platform: { host: 'web' }, dataDir: join(dir, 'app-data'), allowedRoots: [dir] });
    try {
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await timedList(service, root));
      for (const [i, run] of runs.entries())
        console.log(
          `${i === 0 ? 'first open' : `again (${i})`}`.padEnd(20),
          `${run.seconds.toFixed(2)} s, ${run.rows} rows`,
        );
      const after = Math.max(...runs.slice(1).map((r) => r.seconds));
      console.log(
        `  goal: < 1 s after the first open: ${after < 1 && runs.every((r) => r.rows === count) ? 'met' : 'NOT met'}`,
      );
    } finally {
      await service.shutdown();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
