import { createHash, randomUUID } from 'node:crypto';
import type { Bucket } from './bucket.js';
import { httpStatus } from './bucket.js';
import { CHECK_PREFIX } from './bucket-layout.js';

export interface RemoteCapability {
  name: 'bucket' | 'conditional-create' | 'content-md5' | 'paged-listing' | 'delete-objects';
  ok: boolean;
  /** What it means for Cairn when it is missing. */
  detail: string;
}

/**
 * Probes what a remote's service supports, with a few small objects under `.cairn/check/` that are removed
 * again: the bucket and credentials, conditional create (If-None-Match: * must refuse a second PUT: pushes from
 * several machines stay safe only so), Content-MD5 (a wrong one must be refused: nothing damaged is stored),
 * paged listings (continuation tokens), and DeleteObjects (GC and forget delete in batches).
 */
export async function checkRemote(bucket: Bucket, signal?: AbortSignal): Promise<RemoteCapability[]> {
  try {
    await bucket.check(signal);
  } catch (err) {
    return [{ name: 'bucket', ok: false, detail: (err as Error).message }];
  }
  const out: RemoteCapability[] = [{ name: 'bucket', ok: true, detail: 'the bucket answers, the credentials work' }];
  const base = `${CHECK_PREFIX}${randomUUID()}/`;
  const keys = [`${base}a`, `${base}b`];
  try {
    out.push(await conditionalCreate(bucket, keys[0]!, signal));
    await bucket.put(keys[1]!, Buffer.from('b'), { signal });
    out.push(await contentMd5(bucket, `${base}md5`, signal));
    out.push(await pagedListing(bucket, base, signal));
  } finally {
    out.push(await deleteObjects(bucket, [...keys, `${base}md5`], signal));
  }
  return out;
}

async function conditionalCreate(bucket: Bucket, key: string, signal?: AbortSignal): Promise<RemoteCapability> {
  const first = await bucket.put(key, Buffer.from('a'), { ifAbsent: true, signal });
  const second = await bucket.put(key, Buffer.from('a2'), { ifAbsent: true, signal });
  const ok = first === 'created' && second === 'exists';
  return {
    name: 'conditional-create',
    ok,
    detail: ok
      ? 'If-None-Match: * refuses to overwrite'
      : 'If-None-Match: * is ignored: two machines pushing at once could overwrite each other (push from one at a time)',
  };
}

async function contentMd5(bucket: Bucket, key: string, signal?: AbortSignal): Promise<RemoteCapability> {
  const wrong = createHash('md5').update('something else').digest('base64');
  let status: number | undefined;
  try {
    await bucket.put(key, Buffer.from('x'), { contentMd5: wrong, signal });
  } catch (err) {
    status = httpStatus(err);
  }
  const ok = status === 400;
  return {
    name: 'content-md5',
    ok,
    detail: ok
      ? 'a body that does not match its Content-MD5 is refused'
      : 'a wrong Content-MD5 was accepted: uploads are not checked by the service',
  };
}

async function pagedListing(bucket: Bucket, base: string, signal?: AbortSignal): Promise<RemoteCapability> {
  const seen: string[] = [];
  let pages = 0;
  for await (const page of bucket.list(base, signal, 1)) {
    pages++;
    seen.push(...page.map((o) => o.key));
  }
  const ok = seen.length >= 2 && pages >= 2;
  return {
    name: 'paged-listing',
    ok,
    detail: ok ? 'listings page with continuation tokens' : `a listing showed ${seen.length} of 2 objects`,
  };
}

async function deleteObjects(bucket: Bucket, keys: string[], signal?: AbortSignal): Promise<RemoteCapability> {
  try {
    await bucket.deleteMany(keys, signal);
    return { name: 'delete-objects', ok: true, detail: 'objects are deleted in batches (DeleteObjects)' };
  } catch (err) {
    return { name: 'delete-objects', ok: false, detail: (err as Error).message };
  }
}
