import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../contract/errors.js';
import type { JobState } from '../../contract/jobs.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { startWebServer, type WebServer } from '../../web/web-server.js';
import { pseudoRandomBytes } from '../support/data.js';
import { DIST } from '../support/processes.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

/**
 * A browser download of a file with a damaged chunk is cut short, never completed with wrong bytes, and the tasks
 * panel says why (the browser alone only says "failed"); a good download shows there as done.
 */
describe('browser downloads report damage', () => {
  const base = tempDir('download', storeTempRoot());
  const service = new HostService({ platform: { host: 'web' }, dataDir: join(base, 'data'), allowedRoots: [base] });
  const store = join(base, 'store');
  const source = join(base, 'Documents');
  const chunkSize = 1024 * 1024;
  const big = pseudoRandomBytes(6 * chunkSize, 'download');
  let server: WebServer;
  let snapshot = { type: 'host' as const, id: 'Documents', time: 0 };

  async function run(spec: unknown): Promise<JobState> {
    const r = (await service.handle('jobs.start', spec)) as Result<JobState>;
    if (!r.ok) throw new Error(r.error.message);
    return service.engine.whenDone(r.value.id);
  }

  async function download(path: string): Promise<{ status: number; bytes: number; complete: boolean }> {
    const q = new URLSearchParams({
      token: server.token,
      store,
      type: 'host',
      id: 'Documents',
      time: String(snapshot.time),
      path,
    });
    const response = await fetch(`${new URL(server.url).origin}/api/download?${q.toString()}`);
    let bytes = 0;
    try {
      for await (const part of response.body!) bytes += (part as Uint8Array).length;
      return { status: response.status, bytes, complete: true };
    } catch {
      return { status: response.status, bytes, complete: false };
    }
  }

  beforeAll(async () => {
    mkdirSync(source, { recursive: true });
    writeFileSync(join(source, 'big.bin'), big);
    writeFileSync(join(source, 'small.txt'), 'fine');
    expect((await run({ kind: 'create-store', path: store, chunkSize, compression: 'zstd' })).status).toBe('done');
    expect((await run({ kind: 'backup', store, source, id: 'Documents', excludes: [] })).status).toBe('done');
    snapshot = { ...snapshot, time: Datastore.open(store).latestSnapshot(snapshot)!.time };
    server = await startWebServer({ service, rendererDir: join(DIST, 'renderer') });
  });
  afterAll(async () => {
    await server?.close();
    await service.shutdown();
    rmSync(base, { recursive: true, force: true });
  });

  it('a good download shows as done in the tasks panel', async () => {
    expect(await download('small.txt')).toEqual({ status: 200, bytes: 4, complete: true });
    expect(service.engine.list()[0]).toMatchObject({
      status: 'done',
      title: expect.stringMatching(/^Download of small\.txt from host\/Documents\//),
    });
  });

  it('a damaged chunk cuts the download short and the failed task names the chunk', async () => {
    // Damage a chunk late in the file, so the response has begun when it is reached.
    const damaged = findChunkOf(Datastore.open(store), big);
    const raw = readFileSync(damaged.path);
    raw[raw.length >> 1]! ^= 0xff;
    writeFileSync(damaged.path, raw);
    const r = await download('big.bin');
    expect(r.complete && r.bytes === big.length).toBe(false);
    const task = service.engine.list()[0]!;
    expect(task).toMatchObject({
      status: 'failed',
      kind: 'export-file',
      title: expect.stringMatching(/^Download of big\.bin/),
    });
    expect(task.error?.message).toContain(damaged.digest);
    expect(task.error?.message).toContain('The download was cut short');
  });
});

/** A chunk of the file's last part: the chunker cuts by content, so the stored chunks are found by their digests. */
function findChunkOf(store: Datastore, data: Buffer): { path: string; digest: string } {
  const reader = store.openSnapshot(store.latestSnapshot({ type: 'host', id: 'Documents' })!);
  const index = reader.openIndex('folder.data.didx');
  for (let i = index.chunkCount - 1; i >= 0; i--) {
    const digest = index.digest(i).toString('hex');
    const chunk = store.chunks.readChunk(digest);
    if (chunk.length > 64 * 1024 && data.includes(chunk.subarray(0, 4096))) {
      return { path: store.chunks.chunkPath(digest), digest: createHash('sha256').update(chunk).digest('hex') };
    }
  }
  throw new Error('no chunk of the file found');
}
