import { dirname, join } from 'node:path';
import type { KeyRing, KeyRow } from '../contract/keys.js';
import { CryptConfig } from '../core/blob/crypt-config.js';
import { shortFingerprint } from '../core/crypto/fingerprint.js';
import { kdfKind } from '../core/crypto/kdf.js';
import { createKey, decryptKey, readKeyFile, writeKeyFile, type KeyConfig } from '../core/crypto/key-file.js';
import { paperKey } from '../core/crypto/paper-key.js';
import { CairnError, KeyRequiredError } from '../core/errors.js';
import { makeDirectories } from '../core/fs/make-directories.js';
import { AppError } from './app-errors.js';
import { KnownKeyFiles } from './known-keys.js';
import { RememberedKeys, type SecretStore } from './remembered-keys.js';

const NO_SECRET_STORE = 'keys can be remembered only by the desktop app, which seals them with the OS keychain';

/**
 * The host's key ring: the key files it knows (the default key, and those the user added) and the keys unlocked
 * now, in this process's memory only. Jobs and queries get the raw bytes of the keys they need inside the
 * process (worker threads); nothing here ever answers with key bytes, and passphrases are used and dropped.
 */
export class HostKeys {
  readonly defaultPath: string;
  private readonly unlocked = new Map<string, CryptConfig>();
  private readonly known: KnownKeyFiles;
  private readonly remembered: RememberedKeys;

  constructor(
    configDir: string,
    private readonly secrets?: SecretStore,
  ) {
    const keysDir = join(configDir, 'keys');
    this.defaultPath = join(keysDir, 'default.json');
    this.known = new KnownKeyFiles(keysDir);
    this.remembered = new RememberedKeys(keysDir);
  }

  ring(): KeyRing {
    return {
      keys: this.paths().map((path) => this.row(path)),
      defaultPath: this.defaultPath,
      remember: this.canRemember() ? { available: true } : { available: false, why: NO_SECRET_STORE },
    };
  }

  /** A new key under a passphrase, written to a new file (never over one), known and unlocked at once. */
  async create(path: string | undefined, passphrase: string, hint?: string): Promise<KeyRow> {
    const file = path ?? this.defaultPath;
    const secret = Buffer.from(passphrase, 'utf8');
    try {
      const { key, config } = await createKey({ kdf: 'scrypt', passphrase: secret, hint });
      makeDirectories(dirname(file), 0o700);
      writeKeyFile(file, config, { replace: false });
      this.unlocked.set(config.fingerprint!, new CryptConfig(key));
      key.fill(0);
    } finally {
      secret.fill(0);
    }
    this.known.add(file);
    return this.row(file);
  }

  /** Makes an existing key file known (its key stays locked until unlocked). */
  add(path: string): KeyRow {
    readKeyFile(path); // a missing or damaged file is refused, not listed
    this.known.add(path);
    return this.row(path);
  }

  /** Unlocks the key of a known file (by fingerprint) or of a file (by path, which becomes known). */
  async unlock(
    by: { fingerprint: string } | { path: string },
    passphrase: string | undefined,
    remember = false,
  ): Promise<KeyRow> {
    if (remember && !this.canRemember()) throw new AppError('NOT_AVAILABLE', NO_SECRET_STORE);
    const path = 'path' in by ? by.path : this.pathOf(by.fingerprint);
    const config = readKeyFile(path);
    const secret = passphrase === undefined ? undefined : Buffer.from(passphrase, 'utf8');
    if (config.kdf !== null && secret === undefined)
      throw new AppError('INVALID_ARGUMENT', `${path} needs its passphrase`);
    try {
      const { key, fingerprint } = await decryptKey(config, secret, path);
      if (remember) this.remembered.put(fingerprint, this.secrets!.seal(key));
      this.unlocked.set(fingerprint, new CryptConfig(key));
      key.fill(0);
    } finally {
      secret?.fill(0);
    }
    if ('path' in by) this.known.add(path);
    return this.row(path);
  }

  /** Removes the copy sealed on this computer; the key stays unlocked until the host stops or it is locked. */
  forgetRemembered(fingerprint: string): KeyRow {
    const fp = fingerprint.toLowerCase();
    this.remembered.remove(fp);
    return this.row(this.pathOf(fp));
  }

  /** Drops the key from memory; `forget` also removes the copy sealed on this computer. */
  lock(fingerprint: string, forget = false): KeyRow {
    const fp = fingerprint.toLowerCase();
    this.unlocked.delete(fp);
    if (forget) this.remembered.remove(fp);
    return this.row(this.pathOf(fp));
  }

  /**
   * The printable page of a known key file: the file's text and QR code, the key still under its passphrase.
   * A key without passphrase is refused: its page would be the key itself, which never goes to the renderer.
   */
  paperKey(fingerprint: string): Promise<string> {
    const path = this.pathOf(fingerprint.toLowerCase());
    const config = readKeyFile(path);
    if (config.kdf === null)
      throw new AppError(
        'INVALID_ARGUMENT',
        `${path} has no passphrase, so its paper key is the key itself: print it with “cairn key paperkey ${path}”`,
      );
    return paperKey(config, 'html');
  }

  /** Unlocks what the secret store opens of the remembered keys (host start); a key it cannot open stays locked. */
  unlockRemembered(): number {
    if (!this.canRemember()) return 0;
    let count = 0;
    for (const [fingerprint, sealed] of this.remembered.all()) {
      try {
        const crypt = new CryptConfig(this.secrets!.open(sealed));
        if (crypt.fingerprint() !== fingerprint) continue; // not what was sealed under that name
        this.unlocked.set(fingerprint, crypt);
        count++;
      } catch {
        // Sealed by another user or keychain: the key file and its passphrase still unlock it.
      }
    }
    return count;
  }

  /** The raw bytes of every unlocked key, for this process's worker threads (browse, restore, verify). */
  rawKeys(): Buffer[] {
    return [...this.unlocked.values()].map((k) => k.rawKey());
  }

  /** The raw bytes of one key, which must be unlocked: otherwise KEY_REQUIRED, and the app asks to unlock it. */
  rawKey(fingerprint: string): Buffer {
    const crypt = this.unlocked.get(fingerprint.toLowerCase());
    if (!crypt)
      throw new KeyRequiredError(
        fingerprint.toLowerCase(),
        `the key ${shortFingerprint(fingerprint)} is locked: unlock it first`,
      );
    return crypt.rawKey();
  }

  isUnlocked(fingerprint: string): boolean {
    return this.unlocked.has(fingerprint.toLowerCase());
  }

  private canRemember(): boolean {
    return this.secrets?.available() ?? false;
  }

  /** The default key first (when its file exists), then the added ones in the order they were added. */
  private paths(): string[] {
    const added = this.known.list().filter((p) => p !== this.defaultPath);
    return [...(safeRead(this.defaultPath) ? [this.defaultPath] : []), ...added];
  }

  private pathOf(fingerprint: string): string {
    const fp = fingerprint.toLowerCase();
    const path = this.paths().find((p) => safeRead(p)?.fingerprint === fp);
    if (!path)
      throw new CairnError('NOT_FOUND', `no key file the app knows holds the key ${shortFingerprint(fp)}: add it`);
    return path;
  }

  private row(path: string): KeyRow {
    const isDefault = path === this.defaultPath;
    let config: KeyConfig;
    try {
      config = readKeyFile(path);
    } catch (err) {
      return { path, unlocked: false, remembered: false, isDefault, problem: (err as Error).message };
    }
    const fingerprint = config.fingerprint;
    return {
      path,
      fingerprint,
      short: fingerprint && shortFingerprint(fingerprint),
      kdf: kdfKind(config.kdf),
      created: config.created,
      ...(config.hint === undefined ? {} : { hint: config.hint }),
      unlocked: fingerprint !== undefined && this.unlocked.has(fingerprint),
      remembered: fingerprint !== undefined && this.remembered.has(fingerprint),
      isDefault,
    };
  }
}

function safeRead(path: string): KeyConfig | undefined {
  try {
    return readKeyFile(path);
  } catch {
    return undefined;
  }
}
