import { encodeBlobPieces, type BlobPieces } from '../blob/data-blob.js';
import { CryptConfig } from '../blob/crypt-config.js';
import { sha256 } from './digest.js';

/** What a worker thread needs to rebuild a job's codec: the store's compression, and the key if it encrypts. */
export interface ChunkCodecData {
  compress: boolean;
  key?: Uint8Array;
}

/**
 * How a job turns data into chunks: the content address (SHA-256, or PBS's keyed digest under a key, so equal
 * data under different keys never shares a chunk) and the stored blob (zstd, then AES-256-GCM under a key).
 */
export class ChunkCodec {
  constructor(
    readonly compress: boolean,
    readonly crypt?: CryptConfig,
  ) {}

  static fromData(data: ChunkCodecData): ChunkCodec {
    return new ChunkCodec(data.compress, data.key ? new CryptConfig(data.key) : undefined);
  }

  /** For the job's own worker threads only: the key never leaves this process. */
  toData(): ChunkCodecData {
    return { compress: this.compress, key: this.crypt?.rawKey() };
  }

  get encrypted(): boolean {
    return this.crypt !== undefined;
  }

  digest(data: Uint8Array): Buffer {
    return this.crypt ? this.crypt.digest(data) : sha256(data);
  }

  /** The blob in the pieces ChunkStore.insert writes without joining them. */
  encode(data: Uint8Array): BlobPieces {
    return encodeBlobPieces(data, { compress: this.compress, crypt: this.crypt });
  }
}
