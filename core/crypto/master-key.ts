import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  privateDecrypt,
  publicEncrypt,
} from 'node:crypto';
import { promisify } from 'node:util';
import { CryptConfig } from '../blob/crypt-config.js';
import { shortFingerprint } from './fingerprint.js';
import { CairnError } from '../errors.js';
import { keyFileText, parseKeyConfig, protectKey, type KeyConfig } from './key-file.js';

/**
 * PBS's master key (proxmox-backup-client `key create-master-key`, `--master-pubkey-file`): an RSA key pair. Each
 * encrypted backup stores its key, as a key config without passphrase, RSA-encrypted (PKCS#1 v1.5) with the
 * public half in `rsa-encrypted.key.blob`; whoever holds the private half (kept offline, under its own
 * passphrase) can recover the backup key from any snapshot, should every copy of the key file be lost.
 */
export const ENCRYPTED_KEY_BLOB = 'rsa-encrypted.key.blob';
/** PBS makes 4096-bit master keys; a key config without passphrase (~260 bytes) does not fit in 2048 bits. */
export const MASTER_KEY_BITS = 4096;
const MIN_MASTER_KEY_BITS = 3072;

export interface MasterKeyPair {
  /** SPKI PEM ("BEGIN PUBLIC KEY"), as PBS's `public_key_to_pem`. */
  publicPem: string;
  /** PKCS#1 PEM encrypted with AES-256-CBC under the passphrase, as PBS's `private_key_to_pem_passphrase`. */
  privatePem: string;
}

export async function createMasterKeyPair(passphrase: Uint8Array, bits = MASTER_KEY_BITS): Promise<MasterKeyPair> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: {
      type: 'pkcs1',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: Buffer.from(passphrase).toString('utf8'),
    },
  });
  return { publicPem: publicKey, privatePem: privateKey };
}

/** A master public key from PEM text, checked to be RSA and large enough; `what` names it in errors. */
export function readMasterPublicKey(pem: string, what: string) {
  let key;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new CairnError('CORRUPT', `${what} is not a PEM public key (${(err as Error).message})`, { cause: err });
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_MASTER_KEY_BITS)
    throw new CairnError('INVALID_ARGUMENT', `${what} is not an RSA key of at least ${MIN_MASTER_KEY_BITS} bits`);
  return key;
}

/** The payload of `rsa-encrypted.key.blob`: the backup key as a key config without passphrase, RSA-encrypted. */
export async function encryptKeyForMaster(
  key: Buffer,
  created: number,
  masterPublicPem: string,
  what: string,
): Promise<Buffer> {
  const config = await protectKey(key, { kdf: 'none' }, created, created);
  return publicEncrypt(
    { key: readMasterPublicKey(masterPublicPem, what), padding: constants.RSA_PKCS1_PADDING },
    Buffer.from(keyFileText(config)),
  );
}

/**
 * The backup key from a snapshot's `rsa-encrypted.key.blob` payload, with the master private key (PEM) and its
 * passphrase: a key config without passphrase, whose fingerprint is checked against the key in it.
 */
export function recoverKeyWithMaster(
  payload: Uint8Array,
  privatePem: string,
  passphrase: Uint8Array,
  what: { blob: string; masterKey: string },
): KeyConfig {
  let privateKey;
  try {
    privateKey = createPrivateKey({ key: privatePem, passphrase: Buffer.from(passphrase) });
  } catch (err) {
    throw new CairnError(
      'WRONG_PASSPHRASE',
      `cannot open the master key ${what.masterKey}: wrong passphrase, or not a PEM private key`,
      { cause: err },
    );
  }
  // With another private key, PKCS#1 v1.5 decryption under OpenSSL's implicit rejection returns random bytes
  // rather than failing: they are no key config, and that is the error.
  let config: KeyConfig;
  try {
    const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, payload);
    config = parseKeyConfig(plain.toString('utf8'), what.blob);
  } catch (err) {
    throw new CairnError(
      'WRONG_KEY',
      `${what.blob} was not encrypted with the master key ${what.masterKey} (or it is damaged)`,
      { cause: err },
    );
  }
  if (config.kdf !== null) throw new CairnError('CORRUPT', `${what.blob} holds a key config with a passphrase`);
  const fingerprint = new CryptConfig(config.data).fingerprint();
  if (config.fingerprint !== undefined && config.fingerprint !== fingerprint)
    throw new CairnError(
      'CORRUPT',
      `${what.blob} records the fingerprint ${shortFingerprint(config.fingerprint)}, but its key has ${shortFingerprint(fingerprint)}`,
    );
  return { ...config, fingerprint };
}
