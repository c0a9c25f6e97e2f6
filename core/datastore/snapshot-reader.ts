import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CryptConfig } from '../blob/crypt-config.js';
import { decodeBlob } from '../blob/data-blob.js';
import { snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import type { Manifest, ManifestFile } from '../backup/manifest.js';
import type { ChunkSource } from '../chunk-store/chunk-source.js';
import type { ChunkStore } from '../chunk-store/chunk-store.js';
import { CairnError, ioError } from '../errors.js';
import { readRegularFile } from '../fs/regular-file.js';
import type { ChunkIndex } from '../index/index-format.js';
import { openIndex, readIndexRange } from '../index/index-reader.js';

/**
 * A finished snapshot opened for reading: every archive is checked against the manifest before use, and every
 * chunk against its digest. `crypt` is the key of an encrypted snapshot, already checked against its manifest
 * (snapshot-key.ts); a plain snapshot has none.
 */
export class SnapshotReader implements ChunkSource {
  /** `type/id/time`: computed once, since messages and cache keys ask for it often. */
  readonly path: string;

  constructor(
    readonly ref: SnapshotRef,
    readonly dir: string,
    readonly manifest: Manifest,
    readonly chunks: ChunkStore,
    readonly crypt?: CryptConfig,
  ) {
    this.path = snapshotPath(ref);
  }

  file(name: string): ManifestFile {
    const file = this.manifest.files.find((f) => f.filename === name);
    if (!file) {
      const names = this.manifest.files.map((f) => f.filename).join(', ');
      throw new CairnError('NOT_FOUND', `snapshot ${this.path} has no archive ${name} (it has: ${names})`);
    }
    return file;
  }

  /** Opens an index and checks its csum and size against the manifest. */
  openIndex(name: string): ChunkIndex {
    const file = this.file(name);
    const index = openIndex(join(this.dir, name));
    if (index.csum.toString('hex') !== file.csum) {
      throw new CairnError('CORRUPT', `${join(this.dir, name)}: index checksum differs from the manifest's`);
    }
    if (index.size !== file.size) {
      throw new CairnError(
        'CORRUPT',
        `${join(this.dir, name)}: archive size ${index.size} differs from the manifest's ${file.size}`,
      );
    }
    return index;
  }

  readBlob(name: string): Buffer {
    const file = this.file(name);
    const path = join(this.dir, name);
    let raw: Buffer;
    try {
      raw = readRegularFile(path, file.size);
    } catch (err) {
      if (err instanceof CairnError) throw err;
      throw ioError('read', path, err);
    }
    if (raw.length !== file.size || createHash('sha256').update(raw).digest('hex') !== file.csum) {
      throw new CairnError('CORRUPT', `${path}: blob differs from the manifest's size and checksum`);
    }
    return decodeBlob(raw, { what: path, crypt: this.crypt });
  }

  readChunk(digest: Uint8Array, length: number, checkDigest = true): Buffer {
    return this.chunks.readChunk(digest, { crypt: this.crypt, length, checkDigest });
  }

  /** Streams bytes [start, end) of an index archive, every chunk verified. */
  readRange(index: ChunkIndex, start?: number, end?: number): Generator<Buffer> {
    return readIndexRange(this, index, start, end);
  }
}
