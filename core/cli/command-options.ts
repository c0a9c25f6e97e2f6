import type { ParseArgsConfig } from 'node:util';

/**
 * The options of the CLI's commands, apart from the commands themselves: cairn.ts parses every command line with
 * them and loads only the module of the command that runs (a `cairn scheduler` that idles for days should not
 * hold the backup and restore code in memory).
 */

/** The options of the commands that make, list and read back backups (archive-commands.ts). */
export const ARCHIVE_COMMAND_OPTIONS = {
  id: { type: 'string' },
  type: { type: 'string' },
  archive: { type: 'string' },
  'chunk-size': { type: 'string' },
  compression: { type: 'string' },
  sync: { type: 'string' },
  to: { type: 'string' },
  overwrite: { type: 'boolean' },
  'allow-other-source': { type: 'boolean' },
  'keep-damaged': { type: 'boolean' },
  exclude: { type: 'string', multiple: true },
  keyfile: { type: 'string' },
  encrypt: { type: 'boolean' },
  'in-place': { type: 'boolean' },
  conflict: { type: 'string' },
  'overwrite-newer': { type: 'boolean' },
  size: { type: 'string' },
  newer: { type: 'string' },
  older: { type: 'string' },
  'master-pubkey-file': { type: 'string' },
  'passphrase-fd': { type: 'string' },
} satisfies ParseArgsConfig['options'];

/** The options of the store maintenance commands (store-commands.ts). */
export const STORE_COMMAND_OPTIONS = {
  'keep-last': { type: 'string' },
  'keep-hourly': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
  'keep-monthly': { type: 'string' },
  'keep-yearly': { type: 'string' },
  'dry-run': { type: 'boolean' },
  set: { type: 'string' },
} satisfies ParseArgsConfig['options'];

export const SCHEDULER_COMMAND_OPTIONS = {
  'install-unit': { type: 'boolean' },
  once: { type: 'boolean' },
} satisfies ParseArgsConfig['options'];

/** The options of `cairn key …` (key-commands.ts). */
export const KEY_COMMAND_OPTIONS = {
  kdf: { type: 'string' },
  hint: { type: 'string' },
  force: { type: 'boolean' },
  output: { type: 'string' },
  'master-key': { type: 'string' },
} satisfies ParseArgsConfig['options'];

export const KEY_SUBCOMMANDS = ['create', 'show', 'change-passphrase', 'paperkey', 'create-master', 'recover'] as const;

/** The options of `cairn remote …`, push and pull (remote-commands.ts). */
export const REMOTE_COMMAND_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  'virtual-host': { type: 'boolean' },
  'store-credentials': { type: 'boolean' },
  parallel: { type: 'string' },
  limit: { type: 'string' },
} satisfies ParseArgsConfig['options'];

export const REMOTE_SUBCOMMANDS = [
  'add',
  'list',
  'show',
  'check',
  'remove',
  'snapshots',
  'ls',
  'cat',
  'restore',
  'prune',
  'gc',
] as const;
