import { join } from 'node:path';
import { z } from 'zod';
import { CryptConfig } from '../core/blob/crypt-config.js';
import { readJsonFile, writeJsonFileAtomic } from '../core/fs/json-file.js';
import { normalFingerprint } from '../core/crypto/fingerprint.js';

/**
 * The OS's secret store as the host needs it (Electron's safeStorage: the keychain, DPAPI, libsecret).
 * `available` is false where it would not protect anything (no keyring: safeStorage's "basic_text").
 */
export interface SecretStore {
  available(): boolean;
  /** Why not, when not available (shown where "remember" would be). */
  unavailableReason?(): string;
  seal(bytes: Buffer): Buffer;
  open(sealed: Buffer): Buffer;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const RememberedFile = z.strictObject({
  version: z.literal(1),
  keys: z.array(z.strictObject({ fingerprint: z.string(), sealed: base64 })).max(1000),
});
type Remembered = z.infer<typeof RememberedFile>['keys'][number];

/**
 * Keys the user asked to keep unlocked on this computer (`remembered-keys.json` in the config folder, 0600):
 * each raw key sealed by the secret store, so the file alone opens nothing. Written atomically.
 */
export class RememberedKeys {
  readonly file: string;

  constructor(
    configDir: string,
    private readonly secrets: SecretStore | undefined,
  ) {
    this.file = join(configDir, 'remembered-keys.json');
  }

  fingerprints(): Set<string> {
    return new Set(this.read().map((k) => k.fingerprint));
  }

  remember(crypt: CryptConfig): void {
    const secrets = this.secrets;
    if (!secrets?.available()) return;
    const fingerprint = crypt.fingerprint();
    const sealed = secrets.seal(crypt.rawKey()).toString('base64');
    this.write([...this.read().filter((k) => k.fingerprint !== fingerprint), { fingerprint, sealed }]);
  }

  forget(fingerprint: string): void {
    const kept = this.read().filter((k) => k.fingerprint !== fingerprint);
    if (kept.length !== this.read().length) this.write(kept);
  }

  /**
   * Every remembered key the secret store still opens (another user's or a reset keychain opens none), each
   * checked against its recorded fingerprint. What cannot be opened is left for the user to forget.
   */
  openAll(): { opened: CryptConfig[]; failed: string[] } {
    const opened: CryptConfig[] = [];
    const failed: string[] = [];
    if (!this.secrets?.available()) return { opened, failed: this.read().map((k) => k.fingerprint) };
    for (const entry of this.read()) {
      const crypt = this.tryOpen(entry);
      if (crypt) opened.push(crypt);
      else failed.push(entry.fingerprint);
    }
    return { opened, failed };
  }

  private tryOpen(entry: Remembered): CryptConfig | undefined {
    try {
      const crypt = new CryptConfig(this.secrets!.open(Buffer.from(entry.sealed, 'base64')));
      return crypt.fingerprint() === normalFingerprint(entry.fingerprint) ? crypt : undefined;
    } catch {
      return undefined;
    }
  }

  private read(): Remembered[] {
    return readJsonFile(this.file, RememberedFile, 'the keys remembered on this computer')?.keys ?? [];
  }

  private write(keys: Remembered[]): void {
    writeJsonFileAtomic(this.file, { version: 1, keys });
  }
}
