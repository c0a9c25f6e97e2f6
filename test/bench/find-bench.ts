// Issue 21's figures: versions of a path across 1,000 snapshots, and find by name in a snapshot of many files.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findEntries } from '../../core/archive/find-entries.js';
import { backupFolder } from '../../core/archive/folder-backup.js';
import { FolderArchiveReader } from '../../core/archive/folder-reader.js';
import { pathVersions } from '../../core/archive/path-versions.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { storeTempRoot, tempDir } from '../support/temp.js';

const GROUP = { type: 'host' as const, id: 'src' };

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(2)} s`;
}

/** A tree of `files` small files in folders of 1,000. */
function smallFiles(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const dir = join(root, `d${Math.floor(i / 1000)}`);
    if (i % 1000 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `file-${i}.txt`), `content ${i}`);
  }
}

async function versionsAcrossSnapshots(base: string, snapshots: number): Promise<void> {
  const store = await Datastore.create(join(base, 'versions-store'), { syncLevel: 'none' });
  const src = join(base, 'src');
  smallFiles(src, 400);
  for (let i = 0; i < snapshots; i++) {
    writeFileSync(join(src, 'd0', 'file-3.txt'), `version ${i % 50}`);
    await backupFolder(store, src, { workers: 0, progressIntervalMs: 1e9 });
  }
  const t = performance.now();
  const r = pathVersions(store, GROUP, 'd0/file-3.txt');
  console.log(
    `versions of one file across ${snapshots} snapshots: ${seconds(t)} (${r.versions.length} runs; goal < 2 s)`,
  );
}

async function findInBigSnapshot(base: string, files: number): Promise<void> {
  const store = await Datastore.create(join(base, 'find-store'), { syncLevel: 'none' });
  const src = join(base, 'many');
  smallFiles(src, files);
  const { snapshot } = await backupFolder(store, src, { progressIntervalMs: 1e9 });
  const reader = new FolderArchiveReader(store.openSnapshot(snapshot));
  for (const pattern of ['file-12345', '*-9999?.txt']) {
    const t = performance.now();
    const hits = [...findEntries(reader, { pattern })].length;
    console.log(`find '${pattern}' in a snapshot of ${files} files: ${seconds(t)} (${hits} hits)`);
  }
}

export async function findBench(): Promise<void> {
  console.log('\n== Find and versions (issue 21) ==');
  const base = tempDir('bench-find', storeTempRoot());
  try {
    await versionsAcrossSnapshots(base, Number(process.env.CAIRN_BENCH_FIND_SNAPSHOTS ?? 1000));
    await findInBigSnapshot(base, Number(process.env.CAIRN_BENCH_FIND_FILES ?? 200_000));
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}
