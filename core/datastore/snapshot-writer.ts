import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CryptConfig } from '../blob/crypt-config.js';
import { encodeBlob } from '../blob/data-blob.js';
import { assertArchiveFileName, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import {
  encodeManifest,
  MANIFEST_NAME,
  newManifest,
  signManifest,
  type CryptMode,
  type Manifest,
  type ManifestUnprotected,
} from '../backup/manifest.js';
import type { ChunkStore } from '../chunk-store/chunk-store.js';
import { ENCRYPTED_KEY_BLOB } from '../crypto/master-key.js';
import { CairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { DynamicIndexWriter } from '../index/dynamic-index.js';
import { FixedIndexWriter } from '../index/fixed-index.js';

interface OpenIndex {
  name: string;
  writer: FixedIndexWriter | DynamicIndexWriter;
}

/**
 * A snapshot being written. Indexes and blobs go in first; the manifest, written by finish(), comes last and
 * is what makes the snapshot "finished". abort() (or any failure before finish) removes the directory.
 * Under a key (`crypt`) every blob is encrypted, every archive is listed as `encrypt` (its chunks are the
 * caller's to encrypt, with the same key), and the manifest is signed and names the key's fingerprint.
 */
export class SnapshotWriter {
  private readonly manifest: Manifest;
  private readonly open = new Map<string, OpenIndex>();
  private state: 'writing' | 'finished' | 'aborted' = 'writing';

  /** `guard` (the backup's locks) is checked right before the manifest makes the snapshot visible. */
  constructor(
    readonly ref: SnapshotRef,
    readonly dir: string,
    private readonly chunks: ChunkStore,
    private readonly guard?: { assertHeld(): void },
    readonly crypt?: CryptConfig,
  ) {
    this.manifest = newManifest(ref);
  }

  private get cryptMode(): CryptMode {
    return this.crypt ? 'encrypt' : 'none';
  }

  get path(): string {
    return snapshotPath(this.ref);
  }

  private claimName(name: string): string {
    this.assertWriting();
    assertArchiveFileName(name);
    if (this.open.has(name) || this.manifest.files.some((f) => f.filename === name)) {
      throw new CairnError('ALREADY_EXISTS', `archive ${name} already exists in snapshot ${this.path}`);
    }
    return join(this.dir, name);
  }

  createFixedIndex(name: string, chunkSize: number): FixedIndexWriter {
    if (!name.endsWith('.fidx')) throw new CairnError('INVALID_NAME', `fixed index name must end in .fidx: ${name}`);
    const writer = new FixedIndexWriter(this.claimName(name), chunkSize);
    this.open.set(name, { name, writer });
    return writer;
  }

  createDynamicIndex(name: string): DynamicIndexWriter {
    if (!name.endsWith('.didx')) throw new CairnError('INVALID_NAME', `dynamic index name must end in .didx: ${name}`);
    const writer = new DynamicIndexWriter(this.claimName(name));
    this.open.set(name, { name, writer });
    return writer;
  }

  /** Closes (publishes) an index created by this writer and lists it in the manifest. */
  closeIndex(writer: FixedIndexWriter | DynamicIndexWriter): void {
    this.assertWriting();
    const entry = [...this.open.values()].find((e) => e.writer === writer);
    if (!entry) throw new Error('index writer does not belong to this snapshot');
    const result = writer.close();
    this.open.delete(entry.name);
    this.manifest.files.push({
      filename: entry.name,
      'crypt-mode': this.cryptMode,
      size: result.size,
      csum: result.csum.toString('hex'),
    });
  }

  /** Stores a blob file (size and csum of the encoded bytes go to the manifest), encrypted under the snapshot's key. */
  addBlob(name: string, data: Uint8Array, compress = true): void {
    this.writeBlob(name, encodeBlob(data, { compress, crypt: this.crypt }));
  }

  /**
   * Stores `rsa-encrypted.key.blob` as PBS does: a plain, uncompressed blob (its payload is RSA-encrypted
   * already), listed with the snapshot's crypt mode.
   */
  addMasterKeyBlob(payload: Uint8Array): void {
    this.writeBlob(ENCRYPTED_KEY_BLOB, encodeBlob(payload, { compress: false }));
  }

  private writeBlob(name: string, raw: Buffer): void {
    if (!name.endsWith('.blob')) throw new CairnError('INVALID_NAME', `blob name must end in .blob: ${name}`);
    const path = this.claimName(name);
    writeFileAtomicSync(path, raw);
    this.manifest.files.push({
      filename: name,
      'crypt-mode': this.cryptMode,
      size: raw.length,
      csum: createHash('sha256').update(raw).digest('hex'),
    });
  }

  /** Writes the manifest last (after a filesystem sync at that sync level) and returns it. */
  finish(unprotected: ManifestUnprotected = {}): Manifest {
    this.assertWriting();
    if (this.open.size > 0) {
      throw new CairnError(
        'INVALID_ARGUMENT',
        `cannot finish ${this.path}: index ${[...this.open.keys()].join(', ')} still open`,
      );
    }
    if (this.manifest.files.length === 0)
      throw new CairnError('INVALID_ARGUMENT', `cannot finish ${this.path}: no archive was written`);
    try {
      this.manifest.unprotected = { ...unprotected };
      if (this.crypt) signManifest(this.manifest, this.crypt);
      this.chunks.syncFilesystem();
      this.guard?.assertHeld();
      writeFileAtomicSync(join(this.dir, MANIFEST_NAME), encodeManifest(this.manifest), {
        fsync: this.chunks.syncLevel === 'file',
      });
      this.state = 'finished';
      return this.manifest;
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Drops everything written to this snapshot. Chunks stay in the store for GC. */
  abort(): void {
    if (this.state !== 'writing') return;
    this.state = 'aborted';
    for (const { writer } of this.open.values()) writer.abort();
    this.open.clear();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private assertWriting(): void {
    if (this.state !== 'writing') throw new Error(`snapshot ${this.path} is already ${this.state}`);
  }
}
