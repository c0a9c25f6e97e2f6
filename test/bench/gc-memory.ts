// GC of a synthetic store with many small chunks, in a child process whose heap is capped at 256 MiB: it either
// fits or dies. Half the chunks are referenced by one dynamic index, the other half are garbage.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBlob } from '../../core/blob/data-blob.js';
import { sha256 } from '../../core/chunk-store/digest.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { collectGarbage } from '../../core/gc/garbage-collection.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

const HEAP_LIMIT_MIB = 256;
/** Chunk files a tmpfs store may hold (4 KiB of RAM each). */
const LARGEST_IN_MEMORY = 1_000_000;

async function buildStore(root: string, count: number): Promise<void> {
  const store = await Datastore.create(root, { syncLevel: 'none' });
  const writer = store.beginSnapshot({ type: 'host', id: 'synthetic' });
  const index = writer.createDynamicIndex('data.didx');
  const past = new Date(Date.now() - 3_600_000);
  const data = Buffer.alloc(16);
  for (let i = 0; i < count; i++) {
    data.writeUInt32LE(i, 0);
    data.writeUInt32LE(0x63616972, 4);
    const digest = sha256(data);
    const path = store.chunks.chunkPath(digest);
    writeFileSync(path, encodeBlob(data, { compress: false }));
    utimesSync(path, past, past);
    if (i % 2 === 0) {
      index.add(data.length, digest);
    }
  }
  writer.closeIndex(index);
  writer.finish();
}

/** Runs in the capped child: one GC, then its counters and the heap high-water mark. */
async function child(root: string): Promise<void> {
  let peakHeap = 0;
  const sample = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 20);
  const store = Datastore.open(root);
  const result = await collectGarbage(store);
  clearInterval(sample);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  process.stdout.write(
    JSON.stringify({
      removed: result.removedChunks,
      inUse: result.diskChunks,
      seconds: result.durationMs / 1000,
      peakHeapMiB: peakHeap / 2 ** 20,
      rssMiB: process.memoryUsage().rss / 2 ** 20,
    }),
  );
}

export async function gcMemoryBench(): Promise<void> {
  const count = Number(process.env.CAIRN_BENCH_GC_CHUNKS ?? 1_000_000);
  console.log(
    `\n== GC of a synthetic store with ${count.toLocaleString('en')} chunks (half referenced), heap capped at ${HEAP_LIMIT_MIB} MiB ==`,
  );
  // On tmpfs every chunk file takes a page of RAM (10 million: 40 GB): a large store goes to the disk.
  const dir = tempDir('bench-gc', count > LARGEST_IN_MEMORY ? tmpdir() : storeTempRoot());
  try {
    const root = join(dir, 'store');
    mkdirSync(dir, { recursive: true });
    const t0 = performance.now();
    await buildStore(root, count);
    console.log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const r = spawnSync(
      process.execPath,
      [`--max-old-space-size=${HEAP_LIMIT_MIB}`, fileURLToPath(import.meta.url), 'child', root],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) {
      console.log(`  GC FAILED under a ${HEAP_LIMIT_MIB} MiB heap: ${r.stderr.slice(-400)}`);
      return;
    }
    const m = JSON.parse(r.stdout) as {
      removed: number;
      inUse: number;
      seconds: number;
      peakHeapMiB: number;
      rssMiB: number;
    };
    console.log(
      `  GC: ${m.seconds.toFixed(1)} s, removed ${m.removed.toLocaleString('en')}, in use ${m.inUse.toLocaleString('en')}; ` +
        `peak heap ${m.peakHeapMiB.toFixed(0)} MiB (limit ${HEAP_LIMIT_MIB}), RSS ${m.rssMiB.toFixed(0)} MiB; ` +
        `${(count / m.seconds / 1000).toFixed(0)}k chunks/s`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'child') await child(process.argv[3]!);
