import { existsSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import type { CryptConfig } from '../blob/crypt-config.js';
import { shortFingerprint } from '../crypto/fingerprint.js';
import { groupPath, toBackupId, type BackupGroupRef } from '../backup/backup-names.js';
import { CairnError, errnoCode, ioError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { MAX_JSON_FILE_BYTES, readRegularText } from '../fs/regular-file.js';
import type { Logger } from '../log.js';

/**
 * What a group is a backup of: the computer and the folders (or image files) its backups were made from,
 * kept in the group's folder. Two folders of the same name would otherwise share one group by its derived id,
 * and a keep-last prune of that group would delete one folder's only backup.
 */
export const SOURCE_FILE = 'cairn-source.json';

export interface GroupSource {
  host: string;
  paths: string[];
}

/**
 * The source as an encrypted backup records it: the paths would name what the encryption hides, so only an
 * HMAC of them under the key's id_key is kept. A backup with that key can still tell whether its source is the
 * group's; nobody without it learns anything.
 */
export interface SealedSource {
  sealed: true;
  fingerprint: string;
  digest: string;
}

export type RecordedSource = GroupSource | SealedSource;

const SourceRecord = z.union([
  z.object({
    version: z.literal(1),
    host: z.string().min(1),
    paths: z.array(z.string().min(1)).min(1),
  }),
  z.object({
    version: z.literal(1),
    sealed: z.object({ fingerprint: z.string().min(1), digest: z.string().regex(/^[0-9a-f]{64}$/) }),
  }),
]);

export function isSealed(source: RecordedSource): source is SealedSource {
  return 'sealed' in source;
}

export function sealSource(source: GroupSource, crypt: CryptConfig): SealedSource {
  const digest = crypt.hmac(JSON.stringify({ host: source.host, paths: source.paths })).toString('hex');
  return { sealed: true, fingerprint: crypt.fingerprint(), digest };
}

/** The recorded source of a group, undefined for a group made before sources were recorded (or by PBS). */
export function readGroupSource(groupDir: string): RecordedSource | undefined {
  const path = join(groupDir, SOURCE_FILE);
  let text: string;
  try {
    text = readRegularText(path, MAX_JSON_FILE_BYTES);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw ioError('read', path, err);
  }
  let parsed: z.infer<typeof SourceRecord>;
  try {
    parsed = SourceRecord.parse(JSON.parse(text));
  } catch {
    throw new CairnError(
      'CORRUPT',
      `${path} is not a source record Cairn wrote; remove it and the next backup records its own source`,
    );
  }
  if ('sealed' in parsed) return { sealed: true, ...parsed.sealed };
  return { host: parsed.host, paths: parsed.paths };
}

export function writeGroupSource(groupDir: string, source: RecordedSource): void {
  const record = isSealed(source)
    ? { version: 1, sealed: { fingerprint: source.fingerprint, digest: source.digest } }
    : { version: 1, ...source };
  writeFileAtomicSync(join(groupDir, SOURCE_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** A backup's source: this computer and the real paths (a folder reached through a symlink is the same folder). */
export function sourceOnThisHost(paths: string[]): GroupSource {
  return { host: hostname(), paths: paths.map(realPathOrAsGiven) };
}

function realPathOrAsGiven(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // the backup itself says why it cannot read it
  }
}

export function sameSource(a: RecordedSource, b: RecordedSource): boolean {
  if (isSealed(a) || isSealed(b))
    return isSealed(a) && isSealed(b) && a.fingerprint === b.fingerprint && a.digest === b.digest;
  return a.host === b.host && a.paths.length === b.paths.length && a.paths.every((p, i) => p === b.paths[i]);
}

export function describeSource(source: RecordedSource): string {
  if (isSealed(source)) return `an encrypted source (key ${shortFingerprint(source.fingerprint)})`;
  const where = source.host === hostname() ? '' : ` on ${source.host}`;
  return `${source.paths.join(', ')}${where}`;
}

/**
 * Refuses a backup of another source into a group that records one, unless the user says it is the same data
 * (a folder that moved, a renamed computer). The error says what the group holds and suggests an id of its own.
 */
export function assertSourceMatches(
  groupDir: string,
  group: BackupGroupRef,
  source: GroupSource,
  allowOtherSource: boolean,
  crypt?: CryptConfig,
): void {
  const recorded = readGroupSource(groupDir);
  if (!recorded || allowOtherSource) return;
  // A record sealed under another key cannot be compared: the new key starts the group's record anew.
  if (isSealed(recorded) && recorded.fingerprint !== crypt?.fingerprint()) return;
  if (sameSource(recorded, isSealed(recorded) ? sealSource(source, crypt!) : source)) return;
  const suggestion = suggestGroupId(dirname(groupDir), group.id, source.paths[0]!);
  throw new CairnError(
    'SOURCE_MISMATCH',
    `${groupPath(group)} holds backups of ${describeSource(recorded)}; ${describeSource(source)} is another source. ` +
      `Back it up as a group of its own (id "${suggestion}"), or, if it is the same data moved, allow the other source (CLI: --allow-other-source).`,
  );
}

/** Records the source after a backup finished (a first backup, a moved folder the user confirmed, an older group). */
export function recordGroupSource(
  groupDir: string,
  group: BackupGroupRef,
  given: GroupSource,
  log: Logger,
  crypt?: CryptConfig,
): void {
  const source = crypt ? sealSource(given, crypt) : given;
  let recorded: RecordedSource | undefined;
  try {
    recorded = readGroupSource(groupDir);
  } catch {
    recorded = undefined; // a damaged record is replaced by the true one
  }
  if (recorded && sameSource(recorded, source)) return;
  try {
    writeGroupSource(groupDir, source);
    if (recorded)
      log.warn(
        `${groupPath(group)} now records ${describeSource(source)} as its source (it was ${describeSource(recorded)})`,
      );
  } catch (err) {
    // The snapshot is complete; only the record is missing, and the next backup writes it.
    log.warn(`could not record the source of ${groupPath(group)}: ${(err as Error).message}`);
  }
}

/** An id for another folder of the same name: its parent's name joined to the id, numbered if that is taken too. */
export function suggestGroupId(typeDir: string, id: string, sourcePath: string): string {
  const parent = toBackupId(basename(dirname(sourcePath)));
  const stem = parent ? `${parent}-${id}` : id;
  for (let n = parent ? 1 : 2; ; n++) {
    const candidate = (n === 1 ? stem : `${stem}-${n}`).slice(0, 128);
    if (!existsSync(join(typeDir, candidate))) return candidate;
  }
}
