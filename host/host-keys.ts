import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KeyInfo, KeyList, MissingKey } from '../contract/keys.js';
import { CryptConfig } from '../core/blob/crypt-config.js';
import { normalFingerprint, shortFingerprint } from '../core/crypto/fingerprint.js';
import { kdfKind } from '../core/crypto/kdf.js';
import { createKey, decryptKey, readKeyFile, writeKeyFile, type KeyConfig } from '../core/crypto/key-file.js';
import { paperKey } from '../core/crypto/paper-key.js';
import { KeyRequiredError } from '../core/errors.js';
import { makeDirectories } from '../core/fs/make-directories.js';
import { AppError } from './app-errors.js';
import { KnownKeys } from './known-keys.js';
import { RememberedKeys, type SecretStore } from './remembered-keys.js';

export interface KeyRingOptions {
  /** The user's config folder: `keys/` holds the key files the app makes, beside the CLI's default key. */
  configDir: string;
  secretStore?: SecretStore;
  /** Checks a path the renderer names (a key file to add or create elsewhere). */
  checkPath(path: string, what: string): string;
}

export interface UnlockRequest {
  fingerprint?: string;
  path?: string;
  passphrase?: string;
  remember?: boolean;
}

/**
 * The app's keys, in the host process only: the key files it knows (every `*.json` in `keys/` of the config
 * folder, and those the user added elsewhere) and the keys unlocked for this session, by fingerprint. The
 * renderer gets KeyInfo, never a key; worker threads get the raw bytes of the keys their job needs.
 * Passphrases are used once and dropped: never stored, never logged.
 */
export class KeyRing {
  private readonly unlocked = new Map<string, CryptConfig>();
  private readonly known: KnownKeys;
  private readonly remembered: RememberedKeys;
  private readonly keysDir: string;
  private rememberedOpened = false;

  constructor(private readonly options: KeyRingOptions) {
    this.known = new KnownKeys(options.configDir);
    this.remembered = new RememberedKeys(options.configDir, options.secretStore);
    this.keysDir = join(options.configDir, 'keys');
  }

  get defaultPath(): string {
    return join(this.keysDir, 'default.json');
  }

  /**
   * Unlocks the keys remembered on this computer, once, when keys are first needed: Electron's safeStorage
   * works only once the app is ready, after the host was made. A key the secret store cannot open stays locked.
   */
  private unlockRemembered(): void {
    if (this.rememberedOpened) return;
    this.rememberedOpened = true;
    try {
      for (const crypt of this.remembered.openAll().opened) this.unlocked.set(crypt.fingerprint(), crypt);
    } catch {
      // A damaged remembered-keys.json: every key stays locked, and the user unlocks by passphrase.
    }
  }

  list(): KeyList {
    this.unlockRemembered();
    const keys: KeyInfo[] = [];
    const missing: MissingKey[] = [];
    for (const path of this.paths()) {
      try {
        keys.push(this.info(path, readKeyFile(path)));
      } catch (err) {
        missing.push({ path, problem: err instanceof Error ? err.message : String(err) });
      }
    }
    return { keys, missing, remember: this.rememberOffer(), defaultPath: this.newKeyPath() };
  }

  /** A new key under a passphrase (scrypt), written 0600 without replacing a file; unlocked at once. */
  async create(req: { path?: string; passphrase: string; hint?: string; remember?: boolean }): Promise<KeyInfo> {
    this.unlockRemembered();
    if (req.remember) this.assertCanRemember();
    const path = req.path === undefined ? this.newKeyPath() : this.options.checkPath(req.path, 'key file');
    const passphrase = Buffer.from(req.passphrase, 'utf8');
    try {
      const { key, config } = await createKey({ kdf: 'scrypt', passphrase, hint: req.hint || undefined });
      makeDirectories(dirname(path), 0o700);
      writeKeyFile(path, config, { replace: false });
      if (dirname(path) !== this.keysDir) this.known.add(path);
      this.hold(new CryptConfig(key), req.remember);
      return this.info(path, config);
    } finally {
      passphrase.fill(0);
    }
  }

  /** Adds an existing key file (made by `cairn key create` or PBS) to the list; its key stays locked. */
  add(path: string): KeyInfo {
    const checked = this.options.checkPath(path, 'key file');
    const config = readKeyFile(checked);
    if (dirname(checked) !== this.keysDir) this.known.add(checked);
    return this.info(checked, config);
  }

  /** Forgets a key file added from elsewhere (the file stays); the keys folder's own are listed as long as they exist. */
  remove(path: string): KeyList {
    this.known.remove(path);
    return this.list();
  }

  async unlock(req: UnlockRequest): Promise<KeyInfo> {
    this.unlockRemembered();
    if (req.remember) this.assertCanRemember();
    const { path, config } = this.find(req);
    const passphrase = req.passphrase === undefined ? undefined : Buffer.from(req.passphrase, 'utf8');
    try {
      const { key } = await decryptKey(config, passphrase, path);
      this.hold(new CryptConfig(key), req.remember);
      return this.info(path, config);
    } finally {
      passphrase?.fill(0);
    }
  }

  /** Drops the key from memory and from the OS keychain: it takes the passphrase again. */
  lock(fingerprint: string): KeyList {
    this.unlockRemembered();
    const fp = this.normal(fingerprint);
    this.unlocked.delete(fp);
    this.remembered.forget(fp);
    return this.list();
  }

  /** Keeps the key unlocked for this session, but no longer across restarts. */
  forgetRemembered(fingerprint: string): KeyList {
    this.remembered.forget(this.normal(fingerprint));
    return this.list();
  }

  /**
   * The printable page of a key file: the key encrypted under its passphrase, as PBS's paper key. A key file
   * without passphrase is refused: its page would be the key itself, readable by anyone who sees the paper.
   */
  async paperKey(fingerprint: string): Promise<{ html: string; fileName: string }> {
    const { path, config } = this.find({ fingerprint });
    if (config.kdf === null)
      throw new AppError(
        'INVALID_ARGUMENT',
        `${path} holds its key without a passphrase, so its paper key would be the key itself in plain text; ` +
          'if that is what you want, print it from a terminal with cairn key paperkey',
      );
    const short = shortFingerprint(this.fingerprintOf(config, path)).replaceAll(':', '');
    return { html: await paperKey(config, 'html'), fileName: `cairn-paper-key-${short}.html` };
  }

  /** The unlocked key, or KEY_REQUIRED naming it (the renderer asks for its passphrase and tries again). */
  require(fingerprint: string, what: string): CryptConfig {
    this.unlockRemembered();
    const fp = this.normal(fingerprint);
    const crypt = this.unlocked.get(fp);
    if (!crypt) throw new KeyRequiredError(fp, `${what} needs the key ${shortFingerprint(fp)}: unlock it first`);
    return crypt;
  }

  /** The raw bytes of every unlocked key, for a reading job's or query's worker thread in this process. */
  rawKeys(): Buffer[] {
    this.unlockRemembered();
    return [...this.unlocked.values()].map((c) => c.rawKey());
  }

  isUnlocked(fingerprint: string): boolean {
    this.unlockRemembered();
    return this.unlocked.has(this.normal(fingerprint));
  }

  private hold(crypt: CryptConfig, remember: boolean | undefined): void {
    this.unlocked.set(crypt.fingerprint(), crypt);
    if (remember) this.remembered.remember(crypt);
  }

  private find(req: { fingerprint?: string; path?: string }): { path: string; config: KeyConfig } {
    if (req.path !== undefined) {
      const path = this.options.checkPath(req.path, 'key file');
      return { path, config: readKeyFile(path) };
    }
    const fp = this.normal(req.fingerprint ?? '');
    for (const path of this.paths()) {
      const config = this.tryRead(path);
      if (config && this.fingerprintOf(config, path) === fp) return { path, config };
    }
    throw new AppError(
      'NOT_FOUND',
      `no key file the app knows holds the key ${shortFingerprint(fp)}: add its key file in Keys first`,
    );
  }

  private paths(): string[] {
    const own = existsSync(this.keysDir)
      ? readdirSync(this.keysDir)
          .filter((n) => n.endsWith('.json'))
          .sort((a, b) => (a === 'default.json' ? -1 : b === 'default.json' ? 1 : a.localeCompare(b)))
          .map((n) => join(this.keysDir, n))
      : [];
    return [...new Set([...own, ...this.known.list()])];
  }

  private tryRead(path: string): KeyConfig | undefined {
    try {
      return readKeyFile(path);
    } catch {
      return undefined;
    }
  }

  private info(path: string, config: KeyConfig): KeyInfo {
    const fingerprint = this.fingerprintOf(config, path);
    return {
      path,
      fingerprint,
      short: shortFingerprint(fingerprint),
      kdf: kdfKind(config.kdf),
      created: config.created,
      ...(config.hint === undefined ? {} : { hint: config.hint }),
      unlocked: this.unlocked.has(fingerprint),
      remembered: this.safeRemembered().has(fingerprint),
      isDefault: path === this.defaultPath,
    };
  }

  /** A very old PBS key file records no fingerprint: then only its key tells (known once it is unlocked). */
  private fingerprintOf(config: KeyConfig, path: string): string {
    if (config.fingerprint) return config.fingerprint;
    if (config.kdf === null) return new CryptConfig(config.data).fingerprint();
    throw new AppError('CORRUPT', `${path} records no fingerprint: re-save it with cairn key change-passphrase`);
  }

  private safeRemembered(): Set<string> {
    try {
      return this.remembered.fingerprints();
    } catch {
      return new Set();
    }
  }

  private newKeyPath(): string {
    if (!existsSync(this.defaultPath)) return this.defaultPath;
    for (let n = 2; ; n++) {
      const path = join(this.keysDir, `key-${n}.json`);
      if (!existsSync(path)) return path;
    }
  }

  private rememberOffer(): KeyList['remember'] {
    const secrets = this.options.secretStore;
    if (secrets?.available()) return { available: true };
    return {
      available: false,
      why: secrets?.unavailableReason?.() ?? 'browser mode cannot use the system keychain',
    };
  }

  private assertCanRemember(): void {
    const offer = this.rememberOffer();
    if (!offer.available) throw new AppError('NOT_AVAILABLE', `cannot remember the key: ${offer.why}`);
  }

  private normal(fingerprint: string): string {
    const fp = normalFingerprint(fingerprint);
    if (!fp) throw new AppError('INVALID_ARGUMENT', 'that is not a key fingerprint (32 hex pairs)');
    return fp;
  }
}
