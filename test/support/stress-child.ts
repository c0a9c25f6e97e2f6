// A process of the concurrency and crash tests (test/core/gc/concurrency.test.ts): backs up a changing tree, runs GC in
// a loop, or prunes in a loop, against one store shared with other such processes.
// Usage: node stress-child.js <role> <json options>
import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { backupFolder } from '../../core/archive/folder-backup.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { isCairnError } from '../../core/errors.js';
import { collectGarbage } from '../../core/gc/garbage-collection.js';
import { pruneGroup } from '../../core/prune/prune.js';
import { pseudoRandomBytes } from './data.js';
import { seededRandom } from './random.js';
import { treeHashes, type SnapshotRecord, type StressOptions } from './stress-records.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function mutate(src: string, round: number, random: () => number, seed: string): void {
  mkdirSync(join(src, 'sub'), { recursive: true });
  const files = readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
  const write = (path: string): void => {
    const size = 10_000 + Math.floor(random() * 600_000);
    writeFileSync(path, pseudoRandomBytes(size, `${seed}-${round}-${path}-${random()}`));
  };
  if (files.length < 12) {
    for (let i = files.length; i < 12; i++) write(join(src, i % 2 ? 'sub' : '', `f${round}-${i}.bin`));
    return;
  }
  for (let k = 0; k < 3; k++) write(files[Math.floor(random() * files.length)]!);
  rmSync(files[Math.floor(random() * files.length)]!, { force: true });
  write(join(src, random() < 0.5 ? 'sub' : '', `n${round}.bin`));
}

async function main(): Promise<void> {
  const role = process.argv[2];
  const options = JSON.parse(process.argv[3] ?? '{}') as StressOptions;
  const store = Datastore.open(options.store);
  const stop = (): boolean => options.stopFile !== undefined && existsSync(options.stopFile);
  const counters = { runs: 0, removedChunks: 0, removedSnapshots: 0, failures: 0, keptOnSecondLook: 0 };
  if (role === 'backup') {
    const random = seededRandom(options.seed ?? options.id!);
    for (let round = 0; round < (options.rounds ?? 1); round++) {
      mutate(options.src!, round, random, options.seed ?? '');
      const files = treeHashes(options.src!);
      const result = await backupFolder(store, options.src!, { id: options.id, workers: 1 });
      appendFileSync(
        options.records!,
        `${JSON.stringify({ snapshot: result.path, files } satisfies SnapshotRecord)}\n`,
      );
      counters.runs++;
    }
  } else if (role === 'gc') {
    while (!stop()) {
      const result = await collectGarbage(store);
      counters.runs++;
      counters.removedChunks += result.removedChunks;
      counters.keptOnSecondLook += result.keptOnSecondLook;
      await sleep(20);
    }
  } else if (role === 'prune') {
    while (!stop()) {
      for (const group of store.listGroups()) {
        for (const outcome of pruneGroup(store, group, { keepLast: options.keepLast ?? 2 })) {
          if (outcome.outcome === 'failed') counters.failures++;
          if (outcome.outcome === 'removed') counters.removedSnapshots++;
        }
      }
      counters.runs++;
      await sleep(50);
    }
  } else {
    throw new Error(`unknown role ${role}`);
  }
  process.stdout.write(`${JSON.stringify(counters)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${isCairnError(err) ? `${err.code}: ` : ''}${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
