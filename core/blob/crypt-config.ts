import { createCipheriv, createDecipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { fingerprintText } from '../crypto/fingerprint.js';
import { CairnError } from '../errors.js';

const IV_SIZE = 16;
const TAG_SIZE = 16;

/**
 * An encryption key as PBS uses it: AES-256-GCM with a 16-byte IV, chunk digests keyed with id_key
 * (PBKDF2-SHA256(key, "_id_key", 10)), and HMAC-SHA256 manifest signatures (spec 2.5, 11).
 */
export class CryptConfig {
  readonly idKey: Buffer;
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32)
      throw new CairnError('INVALID_ARGUMENT', `encryption key must be 32 bytes, got ${key.length}`);
    this.key = Buffer.from(key);
    this.idKey = pbkdf2Sync(this.key, '_id_key', 10, 32, 'sha256');
  }

  /** The content address of an encrypted chunk: SHA-256(plaintext || id_key). */
  digest(data: Uint8Array): Buffer {
    return createHash('sha256').update(data).update(this.idKey).digest();
  }

  /** SHA-256(SHA-256("Proxmox Backup Encryption Key Fingerprint") || id_key), as colon-separated hex. */
  fingerprint(): string {
    const input = createHash('sha256').update('Proxmox Backup Encryption Key Fingerprint').digest();
    const fp = createHash('sha256').update(input).update(this.idKey).digest();
    return fingerprintText(fp);
  }

  /** The key bytes, for handing to this process's own worker threads; nothing else should need them. */
  rawKey(): Buffer {
    return Buffer.from(this.key);
  }

  hmac(data: Uint8Array | string): Buffer {
    return createHmac('sha256', this.idKey).update(data).digest();
  }

  /** Returns IV, tag and ciphertext. `iv` is only passed by tests that reproduce the spec's vectors. */
  encrypt(plain: Uint8Array, iv: Uint8Array = randomBytes(IV_SIZE)): { iv: Buffer; tag: Buffer; ciphertext: Buffer } {
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_SIZE });
    const ciphertext = joined(cipher.update(plain), cipher.final());
    return { iv: Buffer.from(iv), tag: cipher.getAuthTag(), ciphertext };
  }

  decrypt(iv: Uint8Array, tag: Uint8Array, ciphertext: Uint8Array): Buffer {
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_SIZE });
    decipher.setAuthTag(tag);
    try {
      return joined(decipher.update(ciphertext), decipher.final()); // final checks the tag
    } catch (err) {
      throw new CairnError('CORRUPT', 'decryption failed: wrong key or corrupt data', { cause: err });
    }
  }
}

/** update's output and final's: GCM holds nothing back, so final's is empty and update's is used as it is, uncopied. */
function joined(body: Buffer, rest: Buffer): Buffer {
  return rest.length === 0 ? body : Buffer.concat([body, rest]);
}
