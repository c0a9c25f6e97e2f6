import { join } from 'node:path';
import { assertValidChunkSize, DEFAULT_CHUNK_SIZE, isValidChunkSize } from '../chunker/chunker-params.js';
import { SYNC_LEVELS, type SyncLevel } from '../chunk-store/chunk-store.js';
import { CairnError, errnoCode, ioError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { readRegularText } from '../fs/regular-file.js';

/** Hidden, so the GC's index walk (which skips dot entries) never looks at it. */
export const CONFIG_FILE = '.cairn-store.json';
export const CONFIG_FORMAT = 'cairn-datastore';

export type Compression = 'zstd' | 'none';

export interface DatastoreConfig {
  format: typeof CONFIG_FORMAT;
  version: 1;
  /** Average chunk size of dynamic (content-defined) chunking and the chunk size of image backups. */
  chunkSize: number;
  compression: Compression;
  syncLevel: SyncLevel;
  created: string;
}

export interface DatastoreOptions {
  chunkSize?: number;
  compression?: Compression;
  syncLevel?: SyncLevel;
}

export function newConfig(options: DatastoreOptions): DatastoreConfig {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  assertValidChunkSize(chunkSize);
  const compression = options.compression ?? 'zstd';
  if (compression !== 'zstd' && compression !== 'none') {
    throw new CairnError('INVALID_ARGUMENT', `invalid compression ${JSON.stringify(compression)}: use zstd or none`);
  }
  const syncLevel = options.syncLevel ?? 'filesystem';
  if (!SYNC_LEVELS.includes(syncLevel)) {
    throw new CairnError(
      'INVALID_ARGUMENT',
      `invalid sync level ${JSON.stringify(syncLevel)}: use ${SYNC_LEVELS.join(', ')}`,
    );
  }
  return { format: CONFIG_FORMAT, version: 1, chunkSize, compression, syncLevel, created: new Date().toISOString() };
}

export function writeConfig(root: string, config: DatastoreConfig): void {
  writeFileAtomicSync(join(root, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`, { fsync: true });
}

export function readConfig(root: string): DatastoreConfig {
  const path = join(root, CONFIG_FILE);
  let text: string;
  try {
    text = readRegularText(path, 1024 * 1024);
  } catch (err) {
    if (err instanceof CairnError) throw err;
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new CairnError(
        'NOT_A_DATASTORE',
        `${root} is not a Cairn datastore (no ${CONFIG_FILE}); create one with 'cairn init'`,
      );
    }
    throw ioError('read', path, err);
  }
  let value: Partial<DatastoreConfig>;
  try {
    value = JSON.parse(text) as Partial<DatastoreConfig>;
  } catch {
    throw new CairnError('CORRUPT', `${path}: not valid JSON`);
  }
  if (value.format !== CONFIG_FORMAT || value.version !== 1) {
    throw new CairnError('CORRUPT', `${path}: not a version 1 Cairn datastore configuration`);
  }
  if (
    !isValidChunkSize(value.chunkSize ?? 0) ||
    !SYNC_LEVELS.includes(value.syncLevel as SyncLevel) ||
    (value.compression !== 'zstd' && value.compression !== 'none')
  ) {
    throw new CairnError('CORRUPT', `${path}: invalid chunkSize, compression or syncLevel`);
  }
  return value as DatastoreConfig;
}
