import { createHash } from 'node:crypto';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type GetObjectCommandOutput,
  type DeleteObjectsCommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { CairnError, type CairnErrorCode } from '../errors.js';
import type { Remote, RemoteCredentials } from './remote-book.js';

/** DeleteObjects takes at most this many keys a request (S3's limit). */
const DELETE_BATCH = 1000;

export interface ListedObject {
  key: string;
  size: number;
  lastModified: number;
}

/**
 * One remote's bucket, as the rest of Cairn needs it: whole-object PUTs with Content-MD5 (conditional when asked),
 * GETs, paged listings and batched deletes, every request counted. Keys are relative to the remote's prefix.
 * The SDK's own checksums are off (`WHEN_REQUIRED`): streamed aws-chunked uploads fail on Ceph's gateway and on
 * others; buffers with Content-MD5 work everywhere. Errors become CairnErrors that name the remote and what to do.
 */
export class Bucket {
  private readonly client: S3Client;
  requests = 0;

  constructor(
    readonly remote: Remote,
    credentials: RemoteCredentials,
    options: { maxAttempts?: number } = {},
  ) {
    this.client = new S3Client({
      endpoint: remote.endpoint,
      region: remote.region,
      forcePathStyle: remote.pathStyle,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Backoff with jitter, and a client-side rate that slows down on 503 SlowDown.
      retryMode: 'adaptive',
      maxAttempts: options.maxAttempts ?? 5,
    });
    this.client.middlewareStack.add(
      (next) => (args) => {
        this.requests++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'cairnRequestCounter' },
    );
  }

  get name(): string {
    return this.remote.name;
  }

  key(rel: string): string {
    return `${this.remote.prefix}${rel}`;
  }

  close(): void {
    this.client.destroy();
  }

  /** The bucket answers and the credentials are good. */
  async check(signal?: AbortSignal): Promise<void> {
    try {
      await this.send(new HeadBucketCommand({ Bucket: this.remote.bucket }), signal, 'open the bucket', true);
    } catch (err) {
      // A HEAD has no body to name the error: a 404 of the bucket is a bucket that does not exist.
      if (httpStatus(err) === 404 && !(err instanceof CairnError))
        throw new CairnError('NOT_FOUND', `${this.where()}: cannot open the bucket: ${BUCKET_MISSING}`, { cause: err });
      throw this.translate(err, 'open the bucket');
    }
  }

  /**
   * PUT of a whole object; with `ifAbsent`, 'exists' when the key is taken (If-None-Match: *, 412). A conflict
   * (409: another conditional write to the key at the same moment) is written again without the condition for a
   * content-addressed object, and is 'exists' for an `exclusive` one (a lock: the other writer has it).
   */
  async put(
    rel: string,
    body: Uint8Array,
    options: { ifAbsent?: boolean; exclusive?: boolean; signal?: AbortSignal; contentMd5?: string } = {},
  ): Promise<'created' | 'exists'> {
    const command = new PutObjectCommand({
      Bucket: this.remote.bucket,
      Key: this.key(rel),
      Body: body,
      ContentLength: body.length,
      // `contentMd5` is given only by remote-check.ts, which sends a wrong one on purpose.
      ContentMD5: options.contentMd5 ?? createHash('md5').update(body).digest('base64'),
      IfNoneMatch: options.ifAbsent ? '*' : undefined,
    });
    try {
      await this.send(command, options.signal, `upload ${rel}`, true);
      return 'created';
    } catch (err) {
      const status = httpStatus(err);
      if (options.ifAbsent && status === 412) return 'exists';
      // A conditional write that races another is answered 409 by some services (PBS saw it): the object is
      // content-addressed, so writing it again without the condition is safe.
      if (options.ifAbsent && status === 409)
        return options.exclusive ? 'exists' : this.put(rel, body, { signal: options.signal });
      throw this.translate(err, `upload ${rel}`);
    }
  }

  /** The whole object, or undefined when there is none. */
  async get(rel: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    try {
      const out = await this.send<GetObjectCommandOutput>(
        new GetObjectCommand({ Bucket: this.remote.bucket, Key: this.key(rel) }),
        signal,
        `download ${rel}`,
        true,
      );
      // The body's parts joined once (the SDK's transformToByteArray joins them in JS, then Buffer.from copied).
      const parts: Buffer[] = [];
      for await (const part of out.Body as AsyncIterable<Uint8Array>)
        parts.push(Buffer.isBuffer(part) ? part : Buffer.from(part.buffer, part.byteOffset, part.byteLength));
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    } catch (err) {
      if (signal?.aborted) throw new CairnError('CANCELLED', `cancelled while the remote was asked to download ${rel}`);
      if (httpStatus(err) === 404 && errorName(err) !== 'NoSuchBucket') return undefined;
      throw this.translate(err, `download ${rel}`);
    }
  }

  /** An object's size and LastModified (the server's clock), or undefined when there is none. */
  async head(rel: string, signal?: AbortSignal): Promise<ListedObject | undefined> {
    try {
      const out = await this.send<HeadObjectCommandOutput>(
        new HeadObjectCommand({ Bucket: this.remote.bucket, Key: this.key(rel) }),
        signal,
        `look at ${rel}`,
        true,
      );
      return { key: rel, size: out.ContentLength ?? 0, lastModified: out.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if (httpStatus(err) === 404) return undefined;
      throw this.translate(err, `look at ${rel}`);
    }
  }

  /** The server's time now: an object written and looked at (LastModified is set by the server's clock). */
  async serverTime(signal?: AbortSignal): Promise<number> {
    const rel = '.cairn/clock';
    await this.put(rel, Buffer.from(String(Date.now())), { signal });
    return (await this.head(rel, signal))?.lastModified ?? Date.now();
  }

  /** Every object under `rel` (a prefix relative to the remote's), page by page. */
  async *list(rel: string, signal?: AbortSignal, pageSize?: number): AsyncGenerator<ListedObject[]> {
    let token: string | undefined;
    const cut = this.remote.prefix.length;
    do {
      const page = await this.send<ListObjectsV2CommandOutput>(
        new ListObjectsV2Command({
          Bucket: this.remote.bucket,
          Prefix: this.key(rel),
          ContinuationToken: token,
          MaxKeys: pageSize,
        }),
        signal,
        `list ${rel || 'the bucket'}`,
      );
      yield (page.Contents ?? []).map((o) => ({
        key: o.Key!.slice(cut),
        size: o.Size ?? 0,
        lastModified: o.LastModified?.getTime() ?? 0,
      }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Deletes keys in batches of 1000; returns how many the service reports deleted. */
  async deleteMany(rels: readonly string[], signal?: AbortSignal): Promise<number> {
    let deleted = 0;
    for (let i = 0; i < rels.length; i += DELETE_BATCH) {
      const batch = rels.slice(i, i + DELETE_BATCH);
      const body = { Objects: batch.map((r) => ({ Key: this.key(r) })), Quiet: false };
      const out = await this.send<DeleteObjectsCommandOutput>(
        new DeleteObjectsCommand({ Bucket: this.remote.bucket, Delete: body }),
        signal,
        'delete objects',
      );
      if (out.Errors && out.Errors.length > 0) {
        const first = out.Errors[0]!;
        throw new CairnError(
          'IO',
          `remote ${this.name}: could not delete ${first.Key}: ${first.Code} ${first.Message}`,
        );
      }
      deleted += out.Deleted?.length ?? 0;
    }
    return deleted;
  }

  // The SDK's command types are many; each call site knows what it sent and what it gets.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private async send<T = any>(command: any, signal: AbortSignal | undefined, action: string, raw = false): Promise<T> {
    if (signal?.aborted) throw new CairnError('CANCELLED', `cancelled before the remote could ${action}`);
    try {
      return (await this.client.send(command, { abortSignal: signal })) as T;
    } catch (err) {
      if (signal?.aborted) throw new CairnError('CANCELLED', `cancelled while the remote was asked to ${action}`);
      if (raw) throw err;
      throw this.translate(err, action);
    }
  }

  /** What went wrong, in words that say what to do. */
  translate(err: unknown, action: string): CairnError {
    if (err instanceof CairnError) return err;
    const status = httpStatus(err);
    const name = errorName(err);
    const [code, why] = explain(status, name, err);
    return new CairnError(code, `${this.where()}: cannot ${action}: ${why}`, { cause: err });
  }

  private where(): string {
    return `remote ${this.name} (${this.remote.endpoint}, bucket ${this.remote.bucket})`;
  }
}

const BUCKET_MISSING = 'the bucket does not exist (create it, or check the name)';

function explain(status: number | undefined, name: string, err: unknown): [CairnErrorCode, string] {
  if (name === 'NoSuchBucket') return ['NOT_FOUND', BUCKET_MISSING];
  // A HEAD's error has no body: the SDK names it Unknown (or by its status), which says nothing more.
  const known = name && name !== 'Unknown' && name !== String(status) ? name : undefined;
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch' || status === 403)
    return [
      'INVALID_ARGUMENT',
      `the credentials were refused (${known ?? 'HTTP 403'}): check the access key and secret`,
    ];
  if (status === 503 || name === 'SlowDown')
    return ['IO', 'the service is overloaded and kept asking to slow down; try again later'];
  if (status !== undefined) return ['IO', `${known ?? 'error'} (HTTP ${status})`];
  const message = err instanceof Error ? err.message : String(err);
  const unreachable = /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|socket hang up/.test(message);
  return ['IO', unreachable ? `the service cannot be reached (${message})` : message];
}

/** The HTTP status of a service error (also one wrapped in a CairnError by translate). */
export function httpStatus(err: unknown): number | undefined {
  if (err instanceof CairnError) return httpStatus(err.cause);
  if (err instanceof S3ServiceException) return err.$metadata.httpStatusCode;
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  return meta?.httpStatusCode;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}
