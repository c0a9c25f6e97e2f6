// Worker thread of ChunkWriterPool: hashes, compresses and stores chunks, so the job thread only reads and chunks.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBlob } from '../blob/data-blob.js';
import { ChunkStore, type SyncLevel } from './chunk-store.js';
import { sha256 } from './digest.js';

export interface ChunkWriterWorkerData {
  root: string;
  syncLevel: SyncLevel;
  compress: boolean;
}

export interface ChunkRequest {
  id: number;
  buffer: ArrayBuffer;
  length: number;
}

export type ChunkResponse =
  | { id: number; buffer: ArrayBuffer; digest: Uint8Array; written: number; duplicate: boolean }
  | { id: number; buffer: ArrayBuffer; error: { message: string; code?: string } };

const { root, syncLevel, compress } = workerData as ChunkWriterWorkerData;
const store = ChunkStore.open(root, { syncLevel });

parentPort!.on('message', (req: ChunkRequest) => {
  const data = new Uint8Array(req.buffer, 0, req.length);
  try {
    const digest = sha256(data);
    let written = 0;
    let duplicate = true;
    if (!store.markIfPresent(digest)) {
      const result = store.insert(digest, encodeBlob(data, { compress }));
      written = result.written;
      duplicate = result.duplicate;
    }
    const response: ChunkResponse = { id: req.id, buffer: req.buffer, digest, written, duplicate };
    parentPort!.postMessage(response, [req.buffer]);
  } catch (err) {
    const e = err as Error & { code?: string };
    parentPort!.postMessage({ id: req.id, buffer: req.buffer, error: { message: e.message, code: e.code } } satisfies ChunkResponse, [req.buffer]);
  }
});
