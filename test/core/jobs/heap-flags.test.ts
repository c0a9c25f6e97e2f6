import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, test } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import type { SnapshotRef } from '../../../core/backup/backup-names.js';
import { textBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { useTempDirs } from '../../support/temp.js';
import { put } from '../../support/tree.js';
import { DIST } from '../../support/processes.js';

const MODULE = pathToFileURL(`${DIST}/core/jobs/heap-flags.js`).href;
const FILES = 1600;

/**
 * The largest the young generation got while a process kept 300,000 small objects (as a scan keeps a folder's
 * entries), in MiB; with `tuned`, keepYoungGenerationSmall ran first, as `cairn backup` does.
 */
function peakYoungGenerationMiB(tuned: boolean): number {
  const script = `
    ${tuned ? `(await import(${JSON.stringify(MODULE)})).keepYoungGenerationSmall();` : ''}
    const { getHeapSpaceStatistics } = await import('node:v8');
    const kept = [];
    let peak = 0;
    for (let i = 0; i < 300000; i++) {
      kept.push({ name: 'file-' + i + '.txt', size: i, parts: [i, i + 1] });
      if (i % 1000 === 0)
        peak = Math.max(peak, getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
    }
    console.log(peak / 1048576);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return Number(run.stdout.trim());
}

// The setting relies on a V8 flag read after start-up; if a Node release stopped honouring it, this says so.
test('keepYoungGenerationSmall keeps V8 from growing the young generation to its default maximum', () => {
  const untuned = peakYoungGenerationMiB(false);
  const tuned = peakYoungGenerationMiB(true);
  expect(untuned).toBeGreaterThanOrEqual(32);
  expect(tuned).toBeLessThan(untuned * 0.6);
});

describe('startWorkersWithRoomToAllocate', () => {
  const ctx = useDatastore();
  const scratch = useTempDirs();

  /** The workers' full collections in a process restoring the snapshot with two of them; `tuned` as `cairn restore`. */
  function fullCollections(ref: SnapshotRef, tuned: boolean): number {
    const target = scratch('heap-flags-restore');
    // The first collection V8 traces is then this thread's (it makes garbage before any worker starts): its
    // isolate is told apart by the address in each trace line.
    const script = `
      let garbage = []; for (let i = 0; i < 300000; i++) garbage.push({ i }); garbage = undefined;
      ${tuned ? `(await import(${JSON.stringify(MODULE)})).startWorkersWithRoomToAllocate();` : ''}
      const { Datastore } = await import(${JSON.stringify(pathToFileURL(`${DIST}/core/datastore/datastore.js`).href)});
      const { restoreFolder } = await import(${JSON.stringify(pathToFileURL(`${DIST}/core/archive/folder-restore.js`).href)});
      const result = await restoreFolder(Datastore.open(${JSON.stringify(ctx.root)}), ${JSON.stringify(ref)}, ${JSON.stringify(target)}, { workers: 2 });
      if (result.filesDone !== ${FILES}) throw new Error('restored ' + result.filesDone);`;
    // A file, not -e: the workers take the process's options, and --input-type is not one a worker may have.
    const file = join(scratch('heap-flags-script'), 'restore.mjs');
    writeFileSync(file, script);
    const run = spawnSync(process.execPath, ['--trace-gc', file], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter((line) => /^\[\d+:0x[0-9a-f]+\]/.test(line));
    const isolate = (line: string) => line.slice(0, line.indexOf(']'));
    const main = isolate(lines[0]!);
    return lines.filter((line) => isolate(line) !== main && line.includes('Mark-Compact')).length;
  }

  // The setting relies on a V8 flag read when an isolate starts; if a Node release stopped honouring it, this says so.
  it('leaves the workers of a restore that decodes ~100 MB half the full collections', async () => {
    const src = scratch('heap-flags-src');
    for (let i = 0; i < FILES; i++) put(src, `d${i % 20}/f${i}.txt`, textBytes(64 * 1024, i + 1));
    const ref = (await backupFolder(ctx.store, src, { id: 'heap-flags' })).snapshot;
    const untuned = fullCollections(ref, false);
    const tuned = fullCollections(ref, true);
    // 4–5 against 2 on this machine; V8's collections move a little from run to run.
    expect(untuned).toBeGreaterThanOrEqual(3);
    expect(tuned).toBeLessThanOrEqual(untuned - 2);
  });
});
