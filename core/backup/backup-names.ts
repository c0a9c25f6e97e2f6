import { CairnError } from '../errors.js';

/** PBS's backup types; sorted as PBS sorts them. */
export const BACKUP_TYPES = ['ct', 'host', 'vm'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

/** SAFE_ID: backup ids and archive names (spec 5.1). */
const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const SNAPSHOT_TIME = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/;
/** Longest id we accept: a file name must fit the usual 255-byte limit. */
const MAX_ID_LENGTH = 128;

export interface BackupGroupRef {
  readonly type: BackupType;
  readonly id: string;
}

export interface SnapshotRef extends BackupGroupRef {
  /** Backup time, epoch seconds (UTC). */
  readonly time: number;
}

export function isBackupType(s: string): s is BackupType {
  return (BACKUP_TYPES as readonly string[]).includes(s);
}

export function isValidBackupId(id: string): boolean {
  return id.length <= MAX_ID_LENGTH && SAFE_ID.test(id);
}

export function assertBackupType(s: string): BackupType {
  if (!isBackupType(s))
    throw new CairnError('INVALID_NAME', `invalid backup type ${JSON.stringify(s)}: must be vm, ct or host`);
  return s;
}

export function assertBackupId(id: string): string {
  if (!isValidBackupId(id)) {
    throw new CairnError(
      'INVALID_NAME',
      `invalid backup id ${JSON.stringify(id)}: use letters, digits, '_', '.' and '-', ` +
        `not starting with '.' or '-', at most ${MAX_ID_LENGTH} characters`,
    );
  }
  return id;
}

/** Turns any name (a folder's, a file's) into a valid backup id, or undefined when nothing usable is left. */
export function toBackupId(name: string): string | undefined {
  const id = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .replace(/-+$/, '')
    .slice(0, MAX_ID_LENGTH);
  return isValidBackupId(id) ? id : undefined;
}

/** RFC 3339, UTC, second resolution: `YYYY-MM-DDTHH:MM:SSZ`. */
export function formatBackupTime(epochSeconds: number): string {
  if (!Number.isSafeInteger(epochSeconds) || epochSeconds < 1) {
    throw new CairnError(
      'INVALID_NAME',
      `invalid backup time ${epochSeconds}: must be a whole number of seconds after the epoch`,
    );
  }
  const iso = new Date(epochSeconds * 1000).toISOString();
  if (!/^[0-9]{4}-/.test(iso))
    throw new CairnError('INVALID_NAME', `backup time ${epochSeconds} is outside years 0..9999`);
  return `${iso.slice(0, 19)}Z`;
}

export function isBackupTimeString(s: string): boolean {
  return SNAPSHOT_TIME.test(s);
}

export function parseBackupTime(s: string): number {
  const m = SNAPSHOT_TIME.exec(s);
  if (!m)
    throw new CairnError('INVALID_NAME', `invalid snapshot time ${JSON.stringify(s)}: expected YYYY-MM-DDTHH:MM:SSZ`);
  const [, y, mo, d, h, mi, sec] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  // Date.UTC normalises 2024-02-30 to March: reject anything that does not round-trip.
  if (Number.isNaN(ms) || formatBackupTimeUnchecked(ms / 1000) !== s || ms < 1000) {
    throw new CairnError('INVALID_NAME', `invalid snapshot time ${JSON.stringify(s)}: not a real UTC date and time`);
  }
  return ms / 1000;
}

function formatBackupTimeUnchecked(seconds: number): string {
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
}

export function groupPath(group: BackupGroupRef): string {
  return `${group.type}/${group.id}`;
}

export function snapshotPath(snapshot: SnapshotRef): string {
  return `${snapshot.type}/${snapshot.id}/${formatBackupTime(snapshot.time)}`;
}

export function parseGroupPath(s: string): BackupGroupRef {
  const parts = s.split('/');
  if (parts.length !== 2)
    throw new CairnError('INVALID_NAME', `invalid group ${JSON.stringify(s)}: expected type/id, e.g. host/docs`);
  return { type: assertBackupType(parts[0]!), id: assertBackupId(parts[1]!) };
}

export function parseSnapshotPath(s: string): SnapshotRef {
  const parts = s.split('/');
  if (parts.length !== 3) {
    throw new CairnError(
      'INVALID_NAME',
      `invalid snapshot ${JSON.stringify(s)}: expected type/id/time, e.g. host/docs/2024-06-05T14:24:36Z`,
    );
  }
  return { type: assertBackupType(parts[0]!), id: assertBackupId(parts[1]!), time: parseBackupTime(parts[2]!) };
}

/** Archive file names in a snapshot: SAFE_ID ending in .fidx, .didx or .blob (spec 5.1). */
export function isArchiveFileName(name: string): boolean {
  return SAFE_ID.test(name) && /\.(fidx|didx|blob)$/.test(name) && name !== 'index.json.blob' && name.length <= 200;
}

export function assertArchiveFileName(name: string): string {
  if (!isArchiveFileName(name)) {
    throw new CairnError(
      'INVALID_NAME',
      `invalid archive name ${JSON.stringify(name)}: letters, digits, '_', '.', '-', ending in .fidx, .didx or .blob`,
    );
  }
  return name;
}
