import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CryptConfig } from '../blob/crypt-config.js';
import type { SnapshotRef } from '../backup/backup-names.js';
import { encryptKeyForMaster } from '../crypto/master-key.js';
import { decryptKey, readKeyFile } from '../crypto/key-file.js';
import type { Datastore } from '../datastore/datastore.js';
import { snapshotCryptMode, snapshotKeyFingerprint } from '../datastore/snapshot-key.js';
import { CairnError, errnoCode } from '../errors.js';
import { defaultKeyPath } from '../crypto/default-key.js';
import { Passphrases } from './passphrase.js';
import { UsageError } from './usage-error.js';

/**
 * Keys for the commands that write or read backups: `--keyfile FILE` (or `--encrypt`: the default key) encrypts
 * a backup; reading an encrypted snapshot takes `--keyfile`, or the default key when it is the one the snapshot
 * names. The passphrase comes as for the key commands (passphrase.ts). Nothing here prints a key or passphrase.
 */
export interface KeyValues {
  keyfile?: string;
  encrypt?: boolean;
  'master-pubkey-file'?: string;
  'passphrase-fd'?: string;
}

export function passphrasesFrom(values: { 'passphrase-fd'?: string }): Passphrases {
  const fdText = values['passphrase-fd'];
  if (fdText !== undefined && !/^[0-9]+$/.test(fdText))
    throw new UsageError(`--passphrase-fd takes a file descriptor number, not ${JSON.stringify(fdText)}`);
  return new Passphrases({
    fd: fdText === undefined ? undefined : Number(fdText),
    env: process.env,
    terminal: process.stdin.isTTY ? { input: process.stdin, output: process.stderr } : undefined,
  });
}

/** The key in a key file, asking for its passphrase if it has one; with the file's creation time. */
export async function openKeyFile(path: string, input: Passphrases): Promise<{ crypt: CryptConfig; created: number }> {
  const config = readKeyFile(path);
  const passphrase = config.kdf === null ? undefined : await input.current(path);
  const { key } = await decryptKey(config, passphrase, path);
  return { crypt: new CryptConfig(key), created: config.created };
}

/** What a backup encrypts with: nothing, or the key (and, with --master-pubkey-file, the key for the master key). */
export async function backupEncryption(
  values: KeyValues,
): Promise<{ crypt?: CryptConfig; masterKeyBlob?: Buffer; keyPath?: string }> {
  if (values.keyfile !== undefined && values.encrypt)
    throw new UsageError('--encrypt uses the default key; with --keyfile, leave it out');
  const keyPath =
    values.keyfile !== undefined ? resolve(values.keyfile) : values.encrypt ? defaultKeyPath() : undefined;
  const masterPath = values['master-pubkey-file'];
  if (keyPath === undefined) {
    if (masterPath !== undefined) throw new UsageError('--master-pubkey-file goes with --keyfile or --encrypt');
    if (values['passphrase-fd'] !== undefined) throw new UsageError('--passphrase-fd goes with --keyfile or --encrypt');
    return {};
  }
  const masterPem = masterPath === undefined ? undefined : readPem(resolve(masterPath));
  const { crypt, created } = await openKeyFile(keyPath, passphrasesFrom(values));
  const masterKeyBlob =
    masterPem === undefined
      ? undefined
      : await encryptKeyForMaster(crypt.rawKey(), created, masterPem, resolve(masterPath!));
  return { crypt, masterKeyBlob, keyPath };
}

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new CairnError('NOT_FOUND', `cannot read the master public key ${path}: ${why}`);
  }
}

/**
 * The key to read `refs` with: none when none is encrypted (a --keyfile given is then not opened); the
 * --keyfile; else the default key if its file names the fingerprint a snapshot needs. Otherwise none: opening
 * the snapshot then says which key it needs.
 */
export async function readingKey(
  store: Datastore,
  refs: SnapshotRef[],
  values: KeyValues,
): Promise<CryptConfig | undefined> {
  const needed = new Set<string>();
  for (const ref of refs) {
    const manifest = store.readManifest(ref);
    if (snapshotCryptMode(manifest) !== 'none') needed.add(snapshotKeyFingerprint(manifest) ?? '');
  }
  if (needed.size === 0) return undefined;
  const input = passphrasesFrom(values);
  if (values.keyfile !== undefined) return (await openKeyFile(resolve(values.keyfile), input)).crypt;
  const fallback = defaultKeyPath();
  if (!existsSync(fallback)) return undefined;
  const recorded = readKeyFile(fallback).fingerprint;
  return recorded !== undefined && needed.has(recorded) ? (await openKeyFile(fallback, input)).crypt : undefined;
}
