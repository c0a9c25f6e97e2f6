import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { CryptConfig } from '../blob/crypt-config.js';
import { shortFingerprint } from '../crypto/fingerprint.js';
import { KDF_KINDS, kdfKind, type KdfKind } from '../crypto/kdf.js';
import {
  changePassphrase,
  checkPassphraseLength,
  createKey,
  decryptKey,
  readKeyFile,
  writeKeyFile,
  type KeyConfig,
} from '../crypto/key-file.js';
import type { PaperKeyFormat } from '../crypto/paper-key.js';
import { localRfc3339 } from '../crypto/rfc3339.js';
import { CairnError, isCairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { makeDirectories } from '../fs/make-directories.js';
import { defaultKeyPath } from '../crypto/default-key.js';
import { table } from './format.js';
import { passphrasesFrom } from './cli-keys.js';
import type { Passphrases } from './passphrase.js';
import type { CommandContext } from './store-commands.js';
import { UsageError } from './usage-error.js';

/**
 * `cairn key create|show|change-passphrase|paperkey`: encryption key files in PBS's format (crypto/key-file.ts).
 * Without a FILE, the default key: <config folder>/keys/default.json.
 */

export interface KeyCommandContext extends Omit<CommandContext, 'values'> {
  values: {
    kdf?: string;
    hint?: string;
    force?: boolean;
    output?: string;
    'passphrase-fd'?: string;
    'master-key'?: string;
    json?: boolean;
  };
}

type KeyCommand = (args: string[], ctx: KeyCommandContext) => Promise<number>;

function keyPathArg(args: string[]): string {
  if (args.length > 1) throw new UsageError(`unexpected ${JSON.stringify(args[1])} after the key file`);
  return args[0] === undefined ? defaultKeyPath() : resolve(args[0]);
}

function parseKdf(value: string | undefined, fallback: KdfKind): KdfKind {
  if (value === undefined) return fallback;
  if (!(KDF_KINDS as readonly string[]).includes(value))
    throw new UsageError(`--kdf takes ${KDF_KINDS.join(', ')}, not ${JSON.stringify(value)}`);
  return value as KdfKind;
}

/** The hint goes with a passphrase; an empty one is none. */
function parseHint(value: string | undefined, kdf: KdfKind): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (kdf === 'none') throw new UsageError('--hint is a reminder of the passphrase: a key with --kdf none has none');
  return value;
}

function passphrases(ctx: KeyCommandContext): Passphrases {
  return passphrasesFrom(ctx.values);
}

/** The fingerprint the file records, or (no passphrase) the one of its key; null when only the passphrase tells. */
function fingerprintOf(config: KeyConfig): string | null {
  return config.fingerprint ?? (config.kdf === null ? new CryptConfig(config.data).fingerprint() : null);
}

function keyInfo(path: string, config: KeyConfig) {
  const fingerprint = fingerprintOf(config);
  return {
    path,
    kdf: kdfKind(config.kdf),
    fingerprint,
    shortFingerprint: fingerprint && shortFingerprint(fingerprint),
    created: config.created,
    modified: config.modified,
    hint: config.hint ?? null,
  };
}

function keyInfoText(path: string, config: KeyConfig): string {
  const info = keyInfo(path, config);
  const rows = [
    ['path', path],
    ['fingerprint', info.fingerprint ?? 'not recorded in the file'],
    ['short', info.shortFingerprint ?? '-'],
    ['kdf', info.kdf === 'none' ? 'none (no passphrase)' : info.kdf],
    ['created', localRfc3339(config.created)],
    ['modified', localRfc3339(config.modified)],
  ];
  if (config.hint !== undefined) rows.push(['hint', config.hint]);
  return table(rows.map(([k, v]) => [`  ${k}:`, v!]));
}

const NO_PASSPHRASE_WARNING = 'the key has no passphrase: whoever can read the file can read the backups made with it';

const create: KeyCommand = async (args, ctx) => {
  const path = keyPathArg(args);
  const kdf = parseKdf(ctx.values.kdf, 'scrypt');
  const hint = parseHint(ctx.values.hint, kdf);
  const replace = ctx.values.force === true;
  const input = passphrases(ctx);
  // Asked before the passphrase is typed; writeKeyFile refuses again without a race.
  if (!replace && existsSync(path))
    throw new CairnError('ALREADY_EXISTS', `${path} exists already: give --force to replace it (its key is then lost)`);
  const passphrase = kdf === 'none' ? undefined : await input.fresh('CAIRN_PASSPHRASE');
  const { config } = await createKey({ kdf, passphrase, hint });
  if (path === defaultKeyPath()) makeDirectories(dirname(path), 0o700);
  writeKeyFile(path, config, { replace });
  if (kdf === 'none') ctx.warn(NO_PASSPHRASE_WARNING);
  ctx.print(
    keyInfo(path, config),
    `Created the key file ${path}\n${keyInfoText(path, config)}\n` +
      'Keep a copy of it apart from this computer (cairn key paperkey prints one): without it, backups encrypted ' +
      'with this key cannot be restored.',
  );
  return 0;
};

const show: KeyCommand = async (args, ctx) => {
  const path = keyPathArg(args);
  const config = readKeyFile(path);
  ctx.print(keyInfo(path, config), `Key file ${path}\n${keyInfoText(path, config)}`);
  return 0;
};

const changePassphraseCommand: KeyCommand = async (args, ctx) => {
  const path = keyPathArg(args);
  const config = readKeyFile(path);
  const kdf = parseKdf(ctx.values.kdf, config.kdf === null ? 'scrypt' : kdfKind(config.kdf));
  const hint = parseHint(ctx.values.hint, kdf);
  const input = passphrases(ctx);
  // The current passphrase is checked before a new one is asked for.
  const { key } = await decryptKey(config, config.kdf === null ? undefined : await input.current(path), path);
  const passphrase = kdf === 'none' ? undefined : await input.fresh('CAIRN_NEW_PASSPHRASE');
  const changed = await changePassphrase(config, key, { kdf, passphrase, hint });
  writeKeyFile(path, changed, { replace: true });
  if (kdf === 'none') ctx.warn(NO_PASSPHRASE_WARNING);
  ctx.print(keyInfo(path, changed), `Changed the passphrase of ${path}\n${keyInfoText(path, changed)}`);
  return 0;
};

function paperFormat(output: string): PaperKeyFormat {
  const ext = extname(output).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.txt') return 'text';
  throw new UsageError(`--output names an .html or a .txt file, not ${JSON.stringify(output)}`);
}

const paperkey: KeyCommand = async (args, ctx) => {
  const path = keyPathArg(args);
  const config = readKeyFile(path);
  const output = ctx.values.output === undefined ? undefined : resolve(ctx.values.output);
  const format = output === undefined ? 'text' : paperFormat(output);
  // The QR code library is loaded for this command only.
  const { paperKey } = await import('../crypto/paper-key.js');
  const page = await paperKey(config, format);
  if (config.kdf === null) ctx.warn(`${NO_PASSPHRASE_WARNING}, and so can whoever has the paper key`);
  if (output === undefined) {
    // The page as it is: its last line is the QR code's margin, spaces that must stay.
    ctx.print({ path, format, fingerprint: fingerprintOf(config), text: page }, page.replace(/\n$/, ''));
    return 0;
  }
  writePaperKey(output, page, ctx.values.force === true);
  ctx.print(
    { path, format, fingerprint: fingerprintOf(config), output },
    `Wrote the paper key of ${path} to ${output}: print it, keep it safe and apart from this computer`,
  );
  return 0;
};

/** Mode 0600 like the key file: it holds the same key. */
function writePaperKey(output: string, page: string, replace: boolean): void {
  try {
    writeFileAtomicSync(output, page, { fsync: true, mode: 0o600, noReplace: !replace, action: 'write the paper key' });
  } catch (err) {
    if (!isCairnError(err, 'ALREADY_EXISTS')) throw err;
    throw new CairnError('ALREADY_EXISTS', `${output} exists already: give --force to replace it`, { cause: err });
  }
}

/** `key create-master [DIR]`: master-public.pem and master-private.pem (its passphrase asked twice), mode 0600. */
const createMaster: KeyCommand = async (args, ctx) => {
  if (args.length > 1) throw new UsageError(`unexpected ${JSON.stringify(args[1])} after the folder`);
  const dir = resolve(args[0] ?? '.');
  const publicPath = join(dir, 'master-public.pem');
  const privatePath = join(dir, 'master-private.pem');
  for (const path of [publicPath, privatePath])
    if (existsSync(path) && ctx.values.force !== true)
      throw new CairnError('ALREADY_EXISTS', `${path} exists already: give --force to replace it`);
  const passphrase = await passphrases(ctx).fresh('CAIRN_PASSPHRASE');
  checkPassphraseLength(passphrase, 'the passphrase of the master key');
  const { createMasterKeyPair } = await import('../crypto/master-key.js');
  const pair = await createMasterKeyPair(passphrase);
  const write = (path: string, text: string) =>
    writeFileAtomicSync(path, text, { fsync: true, mode: 0o600, noReplace: ctx.values.force !== true });
  write(privatePath, pair.privatePem);
  write(publicPath, pair.publicPem);
  ctx.print(
    { publicKey: publicPath, privateKey: privatePath },
    `Created the master key pair:\n  public:  ${publicPath} (give it to backups with --master-pubkey-file)\n` +
      `  private: ${privatePath} (keep it offline, apart from this computer: with it and its passphrase, ` +
      'cairn key recover gets the key of any backup made with the public half)',
  );
  return 0;
};

/**
 * `key recover <store> <snapshot> <FILE> --master-key PRIVATE.pem`: the backup key from the snapshot's
 * rsa-encrypted.key.blob, written to FILE under a new passphrase (asked after the master key's).
 */
const recover: KeyCommand = async (args, ctx) => {
  if (args.length !== 3) throw new UsageError('key recover takes <store> <snapshot> <new key file>');
  const masterPath = ctx.values['master-key'];
  if (masterPath === undefined) throw new UsageError('missing --master-key <private key PEM>');
  const output = resolve(args[2]!);
  const replace = ctx.values.force === true;
  if (!replace && existsSync(output))
    throw new CairnError('ALREADY_EXISTS', `${output} exists already: give --force to replace it`);
  const kdf = parseKdf(ctx.values.kdf, 'scrypt');
  const hint = parseHint(ctx.values.hint, kdf);
  const { openStore } = await import('./open-store.js');
  const { snapshotArg } = await import('./store-commands.js');
  const { masterKeyBlobOf } = await import('../datastore/snapshot-key.js');
  const { recoverKeyWithMaster } = await import('../crypto/master-key.js');
  const store = openStore(args[0]!);
  const ref = snapshotArg(store, args[1]!);
  const blob = masterKeyBlobOf(store, ref);
  const input = passphrases(ctx);
  const masterFile = resolve(masterPath);
  const pem = readText(masterFile);
  const recovered = recoverKeyWithMaster(blob, pem, await input.current(masterFile), {
    blob: `the key blob of ${args[1]}`,
    masterKey: masterFile,
  });
  const passphrase = kdf === 'none' ? undefined : await input.fresh('CAIRN_NEW_PASSPHRASE');
  const config = await changePassphrase(recovered, recovered.data, { kdf, passphrase, hint });
  writeKeyFile(output, config, { replace });
  if (kdf === 'none') ctx.warn(NO_PASSPHRASE_WARNING);
  ctx.print(keyInfo(output, config), `Recovered the key of ${args[1]} into ${output}\n${keyInfoText(output, config)}`);
  return 0;
};

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CairnError('NOT_FOUND', `cannot read ${path}: ${(err as Error).message}`);
  }
}

export const KEY_COMMANDS = new Map<string, KeyCommand>([
  ['create-master', createMaster],
  ['recover', recover],
  ['create', create],
  ['show', show],
  ['change-passphrase', changePassphraseCommand],
  ['paperkey', paperkey],
]);
