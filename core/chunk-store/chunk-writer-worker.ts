// Worker thread of ChunkWriterPool: hashes, compresses and stores chunks, so the job thread only reads and chunks.
import { parentPort, workerData } from 'node:worker_threads';
import { ChunkCodec, type ChunkCodecData } from './chunk-codec.js';
import { ChunkStore, type SyncLevel } from './chunk-store.js';

export interface ChunkWriterWorkerData {
  root: string;
  syncLevel: SyncLevel;
  codec: ChunkCodecData;
}

/**
 * A shared slot (sent once), a chunk to store (in a slot, or rarely in a buffer of its own), or the end: the
 * worker finishes what it was given and exits.
 */
export type ChunkRequest =
  | { type: 'close' }
  | { type: 'slot'; slot: number; buffer: SharedArrayBuffer; offset: number }
  | { type: 'chunk'; id: number; length: number; slot: number }
  | { type: 'chunk'; id: number; length: number; buffer: ArrayBuffer };

export type ChunkResponse =
  /** `warnings`: what the store logged while storing it (a damaged copy moved aside). */
  | { id: number; digest: Uint8Array; written: number; duplicate: boolean; warnings?: string[] }
  | { id: number; error: { message: string; code?: string } };

const { root, syncLevel, codec: codecData } = workerData as ChunkWriterWorkerData;
const codec = ChunkCodec.fromData(codecData);
const warnings: string[] = [];
const store = ChunkStore.open(root, {
  syncLevel,
  log: {
    info: () => {},
    warn: (m) => {
      warnings.push(m);
    },
  },
});

/** Each slot's memory and where in it the slot starts. */
const slots: { buffer: SharedArrayBuffer; offset: number }[] = [];

parentPort!.on('message', (req: ChunkRequest) => {
  if (req.type === 'close') {
    parentPort!.close();
    return;
  }
  if (req.type === 'slot') {
    slots[req.slot] = { buffer: req.buffer, offset: req.offset };
    return;
  }
  try {
    const { buffer, offset } = 'slot' in req ? slots[req.slot]! : { buffer: req.buffer, offset: 0 };
    const data = new Uint8Array(buffer, offset, req.length);
    const digest = codec.digest(data);
    let written = 0;
    let duplicate = true;
    if (!store.markIfPresent(digest, data.length)) {
      const result = store.insert(digest, codec.encode(data));
      written = result.written;
      duplicate = result.duplicate;
    }
    parentPort!.postMessage({
      id: req.id,
      digest,
      written,
      duplicate,
      warnings: warnings.length > 0 ? warnings.splice(0) : undefined,
    } satisfies ChunkResponse);
  } catch (err) {
    const e = err as Error & { code?: string };
    parentPort!.postMessage({ id: req.id, error: { message: e.message, code: e.code } } satisfies ChunkResponse);
  }
});
