import { join } from 'node:path';
import { z } from 'zod';
import { readJsonFile, writeJsonFileAtomic } from '../core/fs/json-file.js';

export const REMEMBERED_KEYS_FILE = 'remembered-keys.json';

/**
 * What the host may use to keep a key on this computer: the OS keychain's encryption (Electron's safeStorage).
 * `seal` and `open` must round-trip only for this user on this machine; browser mode has none.
 */
export interface SecretStore {
  available(): boolean;
  seal(bytes: Buffer): Buffer;
  open(sealed: Buffer): Buffer;
}

const RememberedSchema = z.object({
  version: z.literal(1),
  /** Fingerprint → the raw key sealed by the secret store, base64. */
  keys: z.record(z.string().regex(/^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/), z.string().max(4096)),
});

/**
 * Keys the user asked to remember, sealed by the secret store (`keys/remembered-keys.json`, mode 0600). Only
 * sealed bytes are on disk: without the OS keychain of this user they are of no use.
 */
export class RememberedKeys {
  readonly file: string;

  constructor(keysDir: string) {
    this.file = join(keysDir, REMEMBERED_KEYS_FILE);
  }

  /** Fingerprint → sealed key. A damaged file remembers nothing: the keys are still in their key files. */
  all(): Map<string, Buffer> {
    let parsed: z.infer<typeof RememberedSchema> | undefined;
    try {
      parsed = readJsonFile(this.file, RememberedSchema, 'a file of remembered keys');
    } catch {
      parsed = undefined;
    }
    return new Map(Object.entries(parsed?.keys ?? {}).map(([fp, sealed]) => [fp, Buffer.from(sealed, 'base64')]));
  }

  has(fingerprint: string): boolean {
    return this.all().has(fingerprint);
  }

  put(fingerprint: string, sealed: Buffer): void {
    this.save(new Map(this.all()).set(fingerprint, sealed));
  }

  remove(fingerprint: string): void {
    const all = this.all();
    if (all.delete(fingerprint)) this.save(all);
  }

  private save(keys: Map<string, Buffer>): void {
    const json = Object.fromEntries([...keys].map(([fp, sealed]) => [fp, sealed.toString('base64')]));
    writeJsonFileAtomic(this.file, { version: 1, keys: json });
  }
}
