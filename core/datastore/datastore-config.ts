import { join } from 'node:path';
import { z } from 'zod';
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

/** What says the file is a Cairn datastore's configuration at all (another format or version is not read further). */
const ConfigHeader = z.looseObject({ format: z.literal(CONFIG_FORMAT), version: z.literal(1) });
/** The whole configuration; keys a newer Cairn adds are kept. A config without its creation time reads as ''. */
const ConfigSchema = z.looseObject({
  format: z.literal(CONFIG_FORMAT),
  version: z.literal(1),
  chunkSize: z.number().refine(isValidChunkSize),
  compression: z.enum(['zstd', 'none']),
  syncLevel: z.custom<SyncLevel>((v) => typeof v === 'string' && SYNC_LEVELS.includes(v as SyncLevel)),
  created: z.string().catch(''),
}) satisfies z.ZodType<DatastoreConfig>;

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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CairnError('CORRUPT', `${path}: not valid JSON`);
  }
  if (!ConfigHeader.safeParse(value).success) {
    throw new CairnError('CORRUPT', `${path}: not a version 1 Cairn datastore configuration`);
  }
  const config = ConfigSchema.safeParse(value);
  if (!config.success) throw new CairnError('CORRUPT', `${path}: invalid chunkSize, compression or syncLevel`);
  return config.data;
}
