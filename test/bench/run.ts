// `npm run bench`: Cairn's hot paths side by side with their yardsticks, in one run on this machine.
import { createHash } from 'node:crypto';
import { openSync, closeSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBlob } from '../../core/blob/data-blob.js';
import { Chunker } from '../../core/chunker/chunker.js';
import { MiB } from '../../core/chunker/chunker-params.js';
import { ReferenceChunker } from '../../core/chunker/reference-chunker.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { backupImage } from '../../core/image/image-backup.js';
import { restoreImage } from '../../core/image/image-restore.js';
import { pseudoRandomBytes, textBytes } from '../support/data.js';
import { folderBench } from './folder-bench.js';
import { gcMemoryBench } from './gc-memory.js';
import { appResponsivenessBench } from './app-responsiveness.js';
import { schedulerIdleBench } from './scheduler-idle.js';
import { findBench } from './find-bench.js';
import { scaleBench } from './scale-bench.js';
import { remoteBench } from './remote-bench.js';
import { snapshotListingBench } from './snapshot-listing.js';
import { measure, measureCommand } from './measure.js';
import { tempDir } from '../support/temp.js';

const results: { name: string; mbps: number; note?: string }[] = [];
function report(name: string, mbps: number, note?: string): void {
  results.push({ name, mbps, note });
  console.log(`${name.padEnd(46)} ${mbps.toFixed(0).padStart(7)} MB/s${note ? `   ${note}` : ''}`);
}

async function chunkerAndHash(): Promise<void> {
  console.log('\n== Chunker vs SHA-256 (same 256 MiB random buffer, avg 4 MiB) ==');
  const data = pseudoRandomBytes(256 * MiB, 'bench');
  const sha = await measure(data.length, () => createHash('sha256').update(data).digest());
  const wasm = await measure(data.length, () => new Chunker(4 * MiB).scan(data));
  const wasm64k = await measure(data.length, () => new Chunker(64 * 1024).scan(data));
  const ref = await measure(64 * MiB, () => new ReferenceChunker(4 * MiB).scan(data.subarray(0, 64 * MiB)), 1);
  report('SHA-256 (node:crypto)', sha.mbps);
  report(
    'buzhash chunker, WebAssembly, avg 4 MiB',
    wasm.mbps,
    `ratio to SHA-256: ${(wasm.mbps / sha.mbps).toFixed(2)}`,
  );
  report(
    'buzhash chunker, WebAssembly, avg 64 KiB',
    wasm64k.mbps,
    `ratio to SHA-256: ${(wasm64k.mbps / sha.mbps).toFixed(2)}`,
  );
  report(
    'buzhash reference scan, plain JS, avg 4 MiB',
    ref.mbps,
    `WebAssembly is ${(wasm.mbps / ref.mbps).toFixed(1)}x faster`,
  );
}

async function blobEncode(): Promise<void> {
  console.log('\n== DataBlob encode (zstd level 1 + CRC32), 4 MiB chunks ==');
  const random = pseudoRandomBytes(64 * MiB, 'blob');
  const text = textBytes(64 * MiB);
  for (const [name, data] of [
    ['random (stored uncompressed)', random],
    ['text-like (compressed)', text],
  ] as const) {
    const m = await measure(data.length, () => {
      for (let o = 0; o < data.length; o += 4 * MiB) encodeBlob(data.subarray(o, o + 4 * MiB), { compress: true });
    });
    let encoded = 0;
    for (let o = 0; o < data.length; o += 4 * MiB)
      encoded += encodeBlob(data.subarray(o, o + 4 * MiB), { compress: true }).length;
    report(`blob encode, ${name}`, m.mbps, `ratio ${(encoded / data.length).toFixed(3)}`);
  }
}

function writeImage(path: string, size: number): void {
  // A disk-image-like mix: incompressible data, text, and runs of zeros (unallocated space).
  const fd = openSync(path, 'w');
  const block = 8 * MiB;
  for (let o = 0, i = 0; o < size; o += block, i++) {
    const n = Math.min(block, size - o);
    const kind = i % 8;
    const data = kind < 5 ? pseudoRandomBytes(n, `img${i}`) : kind < 7 ? textBytes(n, i + 1) : Buffer.alloc(n);
    writeSync(fd, data);
  }
  closeSync(fd);
}

async function imageBackup(): Promise<void> {
  const size = Number(process.env.CAIRN_BENCH_IMAGE_MIB ?? 1024) * MiB;
  console.log(`\n== Image backup of a ${size / MiB} MiB file (hot page cache), vs cat file > /dev/null ==`);
  const dir = tempDir('bench');
  try {
    const image = join(dir, 'disk.img');
    writeImage(image, size);
    const cat = await measureCommand(size, 'sh', ['-c', `cat '${image}' > /dev/null`]);
    report('cat file > /dev/null', cat.mbps);
    // Store creation (65,536 mkdirs) is excluded: time the backup alone.
    const store = await Datastore.create(join(dir, 'store'), { syncLevel: 'none' });
    const t0 = performance.now();
    await backupImage(store, image, { id: 'disk' });
    const firstSeconds = (performance.now() - t0) / 1000;
    report(
      'image backup, first (new chunks)',
      size / firstSeconds / 1e6,
      `ratio to cat: ${(size / firstSeconds / 1e6 / cat.mbps).toFixed(2)}`,
    );
    const again = await measure(size, () => backupImage(store, image, { id: 'disk' }), 1);
    report(
      'image backup, unchanged (all chunks known)',
      again.mbps,
      `ratio to cat: ${(again.mbps / cat.mbps).toFixed(2)}`,
    );
    const snap = store.latestSnapshot({ type: 'host', id: 'disk' })!;
    const restore = await measure(size, () => restoreImage(store, snap, join(dir, 'out.img'), { overwrite: true }), 1);
    report(
      'image restore (every chunk verified)',
      restore.mbps,
      `ratio to cat: ${(restore.mbps / cat.mbps).toFixed(2)}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`Cairn benchmark: node ${process.version}, ${process.platform}/${process.arch}`);
await chunkerAndHash();
await blobEncode();
await imageBackup();
if (!process.env.CAIRN_BENCH_SKIP_FOLDER) await folderBench();
if (!process.env.CAIRN_BENCH_SKIP_GC) await gcMemoryBench();
if (!process.env.CAIRN_BENCH_SKIP_APP) await appResponsivenessBench();
if (!process.env.CAIRN_BENCH_SKIP_SCHEDULER) await schedulerIdleBench();
if (!process.env.CAIRN_BENCH_SKIP_FIND) await findBench();
if (!process.env.CAIRN_BENCH_SKIP_SNAPSHOTS) await snapshotListingBench();
scaleBench();
await remoteBench();
