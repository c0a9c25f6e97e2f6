import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Plan, PlanInput } from '../../../contract/plans.js';
import { FolderArchiveReader } from '../../../core/archive/folder-reader.js';
import { restoreFolder } from '../../../core/archive/folder-restore.js';
import { parseSnapshotPath } from '../../../core/backup/backup-names.js';
import { summarizeManifest } from '../../../core/backup/manifest-summary.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { restoreImage } from '../../../core/image/image-restore.js';
import { PlanBook } from '../../../core/plans/plan-book.js';
import { runPlan } from '../../../core/plans/plan-run.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { expectSameTree } from '../../support/tree.js';
import { storeTempRoot, useSuiteTempDir, useTempDirs } from '../../support/temp.js';

const DAY = 86_400_000;

describe('a plan run', () => {
  const suiteDir = useSuiteTempDir('plan-run', storeTempRoot());
  const temp = useTempDirs();
  let storePath: string;
  beforeAll(async () => {
    storePath = join(suiteDir(), 'store');
    await Datastore.create(storePath, { syncLevel: 'none' });
  });

  function sourceTree(): string {
    const dir = temp('plan-src');
    writeFileSync(join(dir, 'report.txt'), 'quarterly report\n');
    mkdirSync(join(dir, 'node_modules', 'left-pad'), { recursive: true });
    writeFileSync(join(dir, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
    return dir;
  }

  function plan(input: Partial<PlanInput>): Plan {
    return new PlanBook(temp('plan-config')).add({
      name: `Plan ${Math.random().toString(36).slice(2, 8)}`,
      sources: [{ kind: 'folder', path: sourceTree() }],
      store: storePath,
      ...input,
    });
  }

  it('backs up into the plan group with its presets, then applies its retention', async () => {
    const p = plan({ excludePresets: ['node-modules'], retention: { keepLast: 1 } });
    const first = await runPlan(p, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(first.run).toMatchObject({ status: 'succeeded', trigger: 'manual', files: 1, pruned: 0 });
    expect(first.run.snapshot).toMatch(new RegExp(`^host/${p.groupId}/`));
    await new Promise((r) => setTimeout(r, 1100)); // snapshot times are whole seconds
    const second = await runPlan(p, { trigger: 'schedule', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(second.run).toMatchObject({ status: 'succeeded', pruned: 1 });
    const store = Datastore.open(storePath);
    const left = store.listSnapshots({ type: 'host', id: p.groupId });
    expect(left.map((s) => s.path)).toEqual([second.run.snapshot]);
    expect(first.gcAt).toBeUndefined();
  });

  it('runs GC and the full verify when they are due, and verifies the new snapshot when asked', async () => {
    const p = plan({ maintenance: { gcEveryDays: 7, verifyNew: true, fullVerifyEveryDays: 30 } });
    const now = Date.now();
    // A plan that has run before (lastAttemptAt), whose full verify never ran: due.
    const ranBefore = { failures: 0, lastGcAt: now - 8 * DAY, lastAttemptAt: now - DAY };
    const due = await runPlan(p, { trigger: 'schedule', runtime: ranBefore });
    expect(due.run).toMatchObject({ status: 'succeeded', gc: true, verify: 'ok' });
    expect(due.gcAt).toBeGreaterThanOrEqual(now);
    expect(due.fullVerifyAt).toBeGreaterThanOrEqual(now);
    const recent = { failures: 0, lastGcAt: now - DAY, lastFullVerifyAt: now - DAY };
    const notDue = await runPlan(p, { trigger: 'schedule', runtime: recent });
    expect(notDue.run.gc).toBeUndefined();
    expect(notDue.run.verify).toBe('ok'); // the new snapshot only
    expect(notDue.fullVerifyAt).toBeUndefined();
  });

  it("counts GC from a plan's first run, which does none; its first full verify is due at once", async () => {
    const p = plan({ maintenance: { gcEveryDays: 7, verifyNew: true, fullVerifyEveryDays: 30 } });
    const now = Date.now();
    const first = await runPlan(p, { trigger: 'schedule', runtime: { failures: 0 } });
    expect(first.run).toMatchObject({ status: 'succeeded', verify: 'ok' });
    expect(first.run.gc).toBeUndefined();
    expect(first.gcAt).toBeUndefined();
    expect(first.fullVerifyAt).toBeGreaterThanOrEqual(now); // the group may hold older snapshots
    // Eight days after the first run GC is due.
    await new Promise((r) => setTimeout(r, 1100)); // snapshot times are whole seconds
    const week = { failures: 0, maintenanceFrom: now - 8 * DAY, lastFullVerifyAt: now };
    const later = await runPlan(p, { trigger: 'schedule', runtime: week });
    expect(later.run.gc).toBe(true);
    expect(later.fullVerifyAt).toBeUndefined();
  });

  it('a store that is not there ends the run as missing, a missing source as failed', async () => {
    const gone = plan({ store: join(temp('unplugged'), 'store') });
    const missing = await runPlan(gone, { trigger: 'schedule', runtime: { failures: 0 } });
    expect(missing.storeMissing).toBe(true);
    // An empty folder (a mount point, the drive away) waits the same; a folder of other things is no store.
    const mountPoint = temp('mount-point');
    expect(
      (await runPlan(plan({ store: mountPoint }), { trigger: 'schedule', runtime: { failures: 0 } })).storeMissing,
    ).toBe(true);
    const notStore = plan({ store: sourceTree() });
    const wrong = await runPlan(notStore, { trigger: 'schedule', runtime: { failures: 0 } });
    expect(wrong).toMatchObject({ storeMissing: false, run: { status: 'failed' } });

    const p = plan({});
    const noSource = await runPlan(
      { ...p, sources: [{ kind: 'folder', path: join(temp('vanished'), 'docs') }] },
      { trigger: 'schedule', runtime: { failures: 0, lastGcAt: Date.now() } },
    );
    expect(noSource).toMatchObject({ storeMissing: false, run: { status: 'failed' } });
    expect(noSource.run.error).toMatch(/docs/);
  });

  it('refuses to back up another folder into a group that records one', async () => {
    const p = plan({});
    await runPlan(p, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    const other = { ...p, sources: [{ kind: 'folder' as const, path: sourceTree() }] };
    const refused = await runPlan(other, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(refused.run.status).toBe('failed');
    expect(refused.run.error).toMatch(new RegExp(`holds backups of .*, which the plan "${p.name}" never backed up`));
  });

  it("backs up the new folder into its group after the plan's source was edited (the folder moved)", async () => {
    const config = temp('plan-config');
    const book = new PlanBook(config);
    const p = book.add({ name: 'Moving', sources: [{ kind: 'folder', path: sourceTree() }], store: storePath });
    await runPlan(p, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    const moved = book.edit(p.id, { sources: [{ kind: 'folder', path: sourceTree() }] });
    expect(moved.formerSources).toEqual([p.sources[0]!.path]);
    const after = await runPlan(moved, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(after.run).toMatchObject({ status: 'succeeded' });
  });

  it('backs up two folders and a disk image as one snapshot, and an unchanged run again stores nothing new', async () => {
    const [docs, photos] = [sourceTree(), sourceTree()];
    writeFileSync(join(photos, 'big.raw'), pseudoRandomBytes(1024 * 1024, 'plan-photos'));
    const image = join(temp('plan-vm'), 'disk.img');
    writeFileSync(image, pseudoRandomBytes(3 * 1024 * 1024 + 5, 'plan-disk'));
    const sources = [
      { kind: 'folder' as const, path: photos },
      { kind: 'image' as const, path: image },
      { kind: 'folder' as const, path: docs },
    ];
    const maintenance = { gcEveryDays: 7, verifyNew: true, fullVerifyEveryDays: 30 };
    const p = plan({ sources, excludePresets: ['node-modules'], maintenance });
    const runtime = { failures: 0, lastGcAt: Date.now() };
    const first = await runPlan(p, { trigger: 'manual', runtime });
    expect(first.run).toMatchObject({ status: 'succeeded', files: 3, verify: 'ok' });
    expect(first.run.bytes).toBe(2 * 'quarterly report\n'.length + 1024 * 1024 + 3 * 1024 * 1024 + 5);
    const store = Datastore.open(storePath);
    const snap = store.openSnapshot(parseSnapshotPath(first.run.snapshot!));
    expect(snap.manifest.files.map((f) => f.filename).sort()).toEqual([
      'disk.img.fidx',
      'folder.data.didx',
      'folder.meta.didx',
    ]);
    expect(summarizeManifest(snap.manifest)).toMatchObject({ kind: 'folder', size: first.run.bytes, files: 3 });
    expect(summarizeManifest(snap.manifest).newBytes).toBe(first.run.newBytes);
    const root = new FolderArchiveReader(snap).list('');
    expect(root.map((e) => e.name.toString()).sort()).toEqual([docs, photos].map((d) => d.split('/').pop()!).sort());
    expect(store.groupSource({ type: 'host', id: p.groupId })).toMatchObject({ paths: [docs, image, photos].sort() });

    const out = temp('plan-restored');
    await restoreImage(store, snap.ref, join(out, 'disk.img'));
    expect(readFileSync(join(out, 'disk.img')).equals(readFileSync(image))).toBe(true);
    const restored = await restoreFolder(store, snap.ref, join(out, 'folders'));
    expect(restored).toMatchObject({ failed: [], failedCount: 0 });
    expectSameTree(photos, join(out, 'folders', photos.split('/').pop()!), { skip: ['node_modules'] });

    await new Promise((r) => setTimeout(r, 1100)); // snapshot times are whole seconds
    const again = await runPlan(p, { trigger: 'manual', runtime });
    expect(again.run).toMatchObject({ status: 'succeeded', newBytes: 0, bytes: first.run.bytes });
  });

  it('backs up two disk images of one name as one snapshot, each archive named apart', async () => {
    const [a, b] = [temp('vm-a'), temp('vm-b')].map((d) => join(d, 'disk.img'));
    writeFileSync(a!, pseudoRandomBytes(100_000, 'image-a'));
    writeFileSync(b!, pseudoRandomBytes(200_000, 'image-b'));
    const p = plan({ sources: [a!, b!].map((path) => ({ kind: 'image' as const, path })) });
    const result = await runPlan(p, { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } });
    expect(result.run).toMatchObject({ status: 'succeeded', bytes: 300_000 });
    const store = Datastore.open(storePath);
    const snap = store.openSnapshot(parseSnapshotPath(result.run.snapshot!));
    const archives = snap.manifest.files.map((f) => f.filename).sort();
    expect(archives).toHaveLength(2);
    expect(archives.every((n) => n.endsWith('-disk.img.fidx'))).toBe(true);
    expect(summarizeManifest(snap.manifest)).toMatchObject({ kind: 'image', size: 300_000 });
    const out = temp('images-restored');
    for (const [i, archive] of archives.entries()) {
      await restoreImage(store, snap.ref, join(out, `${i}.img`), { archiveName: archive });
      const source = archive.startsWith(a!.split('/').at(-2)!) ? a! : b!;
      expect(readFileSync(join(out, `${i}.img`)).equals(readFileSync(source))).toBe(true);
    }
  });

  it('refuses a plan whose image lies in one of its folders, before anything is written', async () => {
    const docs = sourceTree();
    writeFileSync(join(docs, 'disk.img'), 'not really a disk');
    const p = plan({});
    const run = await runPlan(
      {
        ...p,
        sources: [...p.sources, { kind: 'folder', path: docs }, { kind: 'image', path: join(docs, 'disk.img') }],
      },
      { trigger: 'manual', runtime: { failures: 0, lastGcAt: Date.now() } },
    );
    expect(run.run).toMatchObject({ status: 'failed' });
    expect(run.run.error).toMatch(/disk\.img is inside .*another source/);
    expect(Datastore.open(storePath).listSnapshots({ type: 'host', id: p.groupId })).toEqual([]);
  });

  it('a folder added to a plan of one moves its group on to both; reordering them changes nothing', async () => {
    const book = new PlanBook(temp('plan-config'));
    const [one, two] = [sourceTree(), sourceTree()];
    const p = book.add({ name: 'Growing', sources: [{ kind: 'folder', path: one }], store: storePath });
    const runtime = { failures: 0, lastGcAt: Date.now() };
    expect((await runPlan(p, { trigger: 'manual', runtime })).run.status).toBe('succeeded');
    const grown = book.edit(p.id, { sources: [...p.sources, { kind: 'folder', path: two }] });
    await new Promise((r) => setTimeout(r, 1100)); // snapshot times are whole seconds
    expect((await runPlan(grown, { trigger: 'manual', runtime })).run).toMatchObject({ status: 'succeeded', files: 4 }); // each: report.txt, node_modules' index.js
    const store = Datastore.open(storePath);
    expect(store.groupSource({ type: 'host', id: p.groupId })).toMatchObject({ paths: [one, two].sort() });
    const reordered = book.edit(p.id, { sources: [...grown.sources].reverse() });
    await new Promise((r) => setTimeout(r, 1100));
    const again = await runPlan(reordered, { trigger: 'manual', runtime });
    expect(again.run).toMatchObject({ status: 'succeeded', newBytes: 0 });
  });

  it('a cancelled run says so', async () => {
    const p = plan({});
    const controller = new AbortController();
    controller.abort();
    const cancelled = await runPlan(p, { trigger: 'manual', runtime: { failures: 0 }, signal: controller.signal });
    expect(cancelled.run.status).toBe('cancelled');
  });
});
