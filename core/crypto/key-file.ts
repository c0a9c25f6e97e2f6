import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CryptConfig } from '../blob/crypt-config.js';
import { CairnError, isCairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { readJsonFile } from '../fs/json-file.js';
import { normalFingerprint, shortFingerprint } from './fingerprint.js';
import { deriveKey, kdfKind, newKeyDerivation, type KdfKind, type KeyDerivation } from './kdf.js';
import { localRfc3339, parseRfc3339 } from './rfc3339.js';

/**
 * A PBS encryption key file (pbs-key-config's lib.rs, `KeyConfig`), byte for byte the JSON proxmox-backup-client
 * reads and writes: `kdf`, `created`, `modified`, `data`, then `fingerprint` and `hint` when present. With a kdf,
 * `data` is IV(16) || tag(16) || AES-256-GCM(derived key, IV, no AAD, raw key); without one, the raw key itself.
 */
export interface KeyConfig {
  kdf: KeyDerivation | null;
  /** Epoch seconds; the file holds them as local RFC 3339 times. */
  created: number;
  modified: number;
  data: Buffer;
  /** Colon-separated lowercase hex; old PBS files may lack it. */
  fingerprint?: string;
  hint?: string;
}

/** PBS refuses to decrypt with a shorter passphrase, so Cairn never sets one. */
export const MIN_PASSPHRASE_BYTES = 5;
const KEY_BYTES = 32;
const IV_BYTES = 16;
const TAG_BYTES = 16;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const bytes = z
  .string()
  .regex(BASE64, 'not base64')
  .transform((s) => Buffer.from(s, 'base64'));
const time = z.string().transform((s, ctx) => {
  const epoch = parseRfc3339(s);
  if (epoch === undefined) ctx.addIssue({ code: 'custom', message: `not an RFC 3339 time: ${JSON.stringify(s)}` });
  return epoch ?? z.NEVER;
});
const fingerprint = z.string().transform((s, ctx) => {
  const fp = normalFingerprint(s);
  if (fp === undefined) ctx.addIssue({ code: 'custom', message: 'not a 32-byte fingerprint' });
  return fp ?? z.NEVER;
});
const count = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const kdfSchema = z.union([
  z.strictObject({
    Scrypt: z.object({
      n: count.refine((n) => n > 1 && (n & (n - 1)) === 0, 'scrypt n is not a power of 2'),
      r: count,
      p: count,
      salt: bytes,
    }),
  }),
  z.strictObject({ PBKDF2: z.object({ iter: count, salt: bytes }) }),
]);

// serde reads a missing Option as None, and so does this.
const keyFileSchema = z
  .object({
    kdf: kdfSchema.nullish().transform((k) => k ?? null),
    created: time,
    modified: time,
    data: bytes,
    fingerprint: fingerprint.nullish().transform((f) => f ?? undefined),
    hint: z
      .string()
      .nullish()
      .transform((h) => h ?? undefined),
  })
  .superRefine((file, ctx) => {
    const want = file.kdf ? IV_BYTES + TAG_BYTES + KEY_BYTES : KEY_BYTES;
    if (file.data.length === want) return;
    const what = file.kdf ? 'an encrypted key has' : 'a key without passphrase has';
    ctx.addIssue({ code: 'custom', path: ['data'], message: `${file.data.length} bytes where ${what} ${want}` });
  });

/** The file's JSON object, its keys in PBS's order. */
export function keyFileJson(config: KeyConfig): Record<string, unknown> {
  const kdf =
    config.kdf === null
      ? null
      : 'Scrypt' in config.kdf
        ? { Scrypt: { ...config.kdf.Scrypt, salt: config.kdf.Scrypt.salt.toString('base64') } }
        : { PBKDF2: { ...config.kdf.PBKDF2, salt: config.kdf.PBKDF2.salt.toString('base64') } };
  return {
    kdf,
    created: localRfc3339(config.created),
    modified: localRfc3339(config.modified),
    data: config.data.toString('base64'),
    ...(config.fingerprint === undefined ? {} : { fingerprint: config.fingerprint }),
    ...(config.hint === undefined ? {} : { hint: config.hint }),
  };
}

/** The file's bytes: compact JSON, as PBS's `KeyConfig::store` writes it. */
export function keyFileText(config: KeyConfig): string {
  return JSON.stringify(keyFileJson(config));
}

/** Reads and validates a key file; a missing one is NOT_FOUND, a damaged one CORRUPT, each naming the file. */
export function readKeyFile(path: string): KeyConfig {
  const config = readJsonFile(path, keyFileSchema, 'a key file');
  if (!config) throw new CairnError('NOT_FOUND', `no key file ${path} (cairn key create makes one)`);
  return config;
}

/** A key config from JSON text that is not a file of its own (a recovered `rsa-encrypted.key.blob`); CORRUPT naming `what`. */
export function parseKeyConfig(text: string, what: string): KeyConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CairnError('CORRUPT', `${what} is not a key config (not JSON)`);
  }
  const parsed = keyFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CairnError('CORRUPT', `${what} is not a key config: ${issue?.message ?? 'wrong shape'}`);
  }
  return parsed.data;
}

/** Writes mode 0600 via tmp + fsync + rename; without `replace`, an existing file is ALREADY_EXISTS and kept. */
export function writeKeyFile(path: string, config: KeyConfig, options: { replace: boolean }): void {
  try {
    writeFileAtomicSync(path, keyFileText(config), {
      fsync: true,
      mode: 0o600,
      noReplace: !options.replace,
      action: 'write the key file',
    });
  } catch (err) {
    if (!isCairnError(err, 'ALREADY_EXISTS')) throw err;
    throw new CairnError('ALREADY_EXISTS', `${path} exists already: a key file is only replaced when asked`, {
      cause: err,
    });
  }
}

export interface KeyProtection {
  kdf: KdfKind;
  /** Needed unless kdf is 'none'. */
  passphrase?: Uint8Array;
  hint?: string;
}

/** A new random key, and its key config protected as asked. */
export async function createKey(
  protection: KeyProtection,
  now = epochNow(),
): Promise<{ key: Buffer; config: KeyConfig }> {
  const key = randomBytes(KEY_BYTES);
  return { key, config: await protectKey(key, protection, now, now) };
}

/** The key config of `key`: encrypted with a key derived from the passphrase, or (kdf 'none') stored as it is. */
export async function protectKey(
  key: Buffer,
  protection: KeyProtection,
  created: number,
  modified: number,
): Promise<KeyConfig> {
  const fingerprint = new CryptConfig(key).fingerprint();
  if (protection.kdf === 'none') {
    if (protection.hint !== undefined)
      throw new CairnError('INVALID_ARGUMENT', 'a key without passphrase has no passphrase hint');
    return { kdf: null, created, modified, data: Buffer.from(key), fingerprint };
  }
  const passphrase = protection.passphrase;
  if (passphrase === undefined) throw new CairnError('INVALID_ARGUMENT', 'a passphrase is needed');
  checkPassphraseLength(passphrase, 'the passphrase');
  const kdf = newKeyDerivation(protection.kdf);
  const data = encryptRawKey(key, await deriveKey(kdf, passphrase));
  return {
    kdf,
    created,
    modified,
    data,
    fingerprint,
    ...(protection.hint === undefined ? {} : { hint: protection.hint }),
  };
}

/** IV || tag || ciphertext, PBS's layout of `data`. */
function encryptRawKey(key: Buffer, derived: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', derived, iv, { authTagLength: TAG_BYTES });
  const encrypted = Buffer.concat([cipher.update(key), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), encrypted]);
}

/** The raw key and its fingerprint; `path` names the file in errors. The passphrase is ignored without a kdf. */
export async function decryptKey(
  config: KeyConfig,
  passphrase: Uint8Array | undefined,
  path: string,
): Promise<{ key: Buffer; fingerprint: string }> {
  const key = config.kdf === null ? Buffer.from(config.data) : await decryptWithPassphrase(config, passphrase, path);
  const fingerprint = new CryptConfig(key).fingerprint();
  if (config.fingerprint !== undefined && config.fingerprint !== fingerprint) {
    throw new CairnError(
      'CORRUPT',
      `${path} records the fingerprint ${shortFingerprint(config.fingerprint)}, but its key has ` +
        `${shortFingerprint(fingerprint)}: the file is damaged or was edited`,
    );
  }
  return { key, fingerprint };
}

async function decryptWithPassphrase(config: KeyConfig, passphrase: Uint8Array | undefined, path: string) {
  const kdf = config.kdf!;
  if (passphrase === undefined) throw new CairnError('INVALID_ARGUMENT', `${path} needs its passphrase`);
  checkPassphraseLength(passphrase, `the passphrase of ${path}`);
  let derived: Buffer;
  try {
    derived = await deriveKey(kdf, passphrase);
  } catch (err) {
    throw new CairnError('CORRUPT', `${path}: its ${kdfKind(kdf)} parameters cannot be used (${String(err)})`, {
      cause: err,
    });
  }
  const iv = config.data.subarray(0, IV_BYTES);
  const tag = config.data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', derived, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(config.data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch (err) {
    const hint = config.hint === undefined ? '' : ` (passphrase hint: ${config.hint})`;
    throw new CairnError(
      'WRONG_PASSPHRASE',
      `cannot decrypt the key in ${path}: wrong passphrase, or the file is damaged${hint}`,
      { cause: err },
    );
  }
}

/**
 * The key of `config` (as decryptKey gives it) under a new passphrase, kdf or none: a new salt and IV, `created`
 * kept, `modified` now. The old hint described the old passphrase, so only a hint given now is kept (as PBS does).
 */
export async function changePassphrase(
  config: KeyConfig,
  key: Buffer,
  protection: KeyProtection,
  now = epochNow(),
): Promise<KeyConfig> {
  const changed = await protectKey(key, protection, config.created, now);
  if (config.fingerprint !== undefined && changed.fingerprint !== config.fingerprint)
    throw new CairnError('INVALID_ARGUMENT', 'that is not the key of this key file');
  return changed;
}

export function checkPassphraseLength(passphrase: Uint8Array, what: string): void {
  if (passphrase.length < MIN_PASSPHRASE_BYTES)
    throw new CairnError(
      'INVALID_ARGUMENT',
      `${what} is too short: it has ${passphrase.length} bytes, at least ${MIN_PASSPHRASE_BYTES} are needed`,
    );
}

function epochNow(): number {
  return Math.floor(Date.now() / 1000);
}
