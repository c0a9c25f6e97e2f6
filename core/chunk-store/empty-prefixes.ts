import type { Stats } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { PREFIX_DIR_COUNT } from './chunk-store.js';
import { errnoCode } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { readRegularFile } from '../fs/regular-file.js';
import type { Logger } from '../log.js';

/**
 * The prefix folders the last sweep found empty (docs/GC.md "Sweep"; layout in docs/FORMAT.md). A folder holds
 * nothing to sweep while it stays empty, and a folder cannot gain an entry without its mtime and ctime moving,
 * so the next GC skips a recorded-empty folder whose times are older than the record: one lstat instead of a
 * listing. It only ever makes GC delete less, never more.
 */
export const EMPTY_PREFIXES_FILE = '.gc-empty-prefixes';
const MAGIC = Buffer.from('CAIRNEP1', 'latin1');
const BITMAP_BYTES = PREFIX_DIR_COUNT / 8;
const FILE_BYTES = MAGIC.length + 8 + BITMAP_BYTES + 4;
/**
 * How far a folder's times may trail the store's clock read before its listing: the kernel stamps with a coarse
 * clock (a few ms behind) and the clock estimate may run ahead by its drift over 30 s (docs/GC.md "Clocks").
 * The reader adds the filesystem's stamp granularity.
 */
export const EMPTY_FOLDER_MARGIN_MS = 100;
/** A record older than this is not trusted: a full sweep now and then bounds what a stepped-back clock could hide. */
export const EMPTY_RECORD_MAX_AGE_MS = 30 * 86_400_000;

export class EmptyPrefixes {
  readonly bits = new Uint8Array(BITMAP_BYTES);

  /** `recordedAtMs`: the store's clock before the first folder was listed. */
  constructor(readonly recordedAtMs: number) {}

  has(prefix: number): boolean {
    return (this.bits[prefix >> 3]! & (1 << (prefix & 7))) !== 0;
  }

  add(prefix: number): void {
    this.bits[prefix >> 3]! |= 1 << (prefix & 7);
  }

  count(): number {
    let n = 0;
    for (let p = 0; p < PREFIX_DIR_COUNT; p++) if (this.has(p)) n++;
    return n;
  }

  /**
   * Still empty: recorded so, and neither mtime nor ctime of the folder (`st`, from lstat) moved since the record
   * less `marginMs` (any create, rename or delete inside moves both; FAT keeps only mtime, and a `touch -d` sets
   * mtime back but moves ctime).
   */
  untouched(prefix: number, st: Stats, marginMs: number): boolean {
    return this.has(prefix) && Math.max(st.mtimeMs, st.ctimeMs) < this.recordedAtMs - marginMs;
  }

  encode(): Buffer {
    const out = Buffer.alloc(FILE_BYTES);
    MAGIC.copy(out, 0);
    out.writeDoubleLE(this.recordedAtMs, MAGIC.length);
    out.set(this.bits, MAGIC.length + 8);
    out.writeUInt32LE(crc32(out.subarray(0, FILE_BYTES - 4)), FILE_BYTES - 4);
    return out;
  }

  static decode(data: Buffer): EmptyPrefixes | undefined {
    if (data.length !== FILE_BYTES || !data.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
    if (crc32(data.subarray(0, FILE_BYTES - 4)) !== data.readUInt32LE(FILE_BYTES - 4)) return undefined;
    const recordedAtMs = data.readDoubleLE(MAGIC.length);
    if (!Number.isFinite(recordedAtMs) || recordedAtMs <= 0) return undefined;
    const record = new EmptyPrefixes(recordedAtMs);
    record.bits.set(data.subarray(MAGIC.length + 8, MAGIC.length + 8 + BITMAP_BYTES));
    return record;
  }
}

/**
 * The record if it can be trusted now: intact, and taken in the last 30 days by the store's clock (a record
 * from the future means the clock went back: not used). A damaged one is a warning and a full sweep.
 */
export function readEmptyPrefixes(root: string, nowMs: number, log: Logger): EmptyPrefixes | undefined {
  const path = join(root, EMPTY_PREFIXES_FILE);
  let data: Buffer;
  try {
    data = readRegularFile(path, FILE_BYTES + 1);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    log.warn(`ignored ${path}: ${(err as Error).message}; every chunk folder is listed`);
    return undefined;
  }
  const record = EmptyPrefixes.decode(data);
  if (!record) {
    log.warn(`ignored ${path}: it is damaged; every chunk folder is listed`);
    return undefined;
  }
  const age = nowMs - record.recordedAtMs;
  return age >= 0 && age <= EMPTY_RECORD_MAX_AGE_MS ? record : undefined;
}

/**
 * A new store's record: every folder was made empty just now and no writer can open the store before its
 * configuration is written, after this.
 */
export function recordNewStoreEmpty(root: string, nowMs: number, log: Logger): void {
  const record = new EmptyPrefixes(nowMs);
  record.bits.fill(0xff);
  writeEmptyPrefixes(root, record, log);
}

/** Saved with an atomic replace after a complete sweep; a failure only costs the next GC its shortcut. */
export function writeEmptyPrefixes(root: string, record: EmptyPrefixes, log: Logger): void {
  try {
    writeFileAtomicSync(join(root, EMPTY_PREFIXES_FILE), record.encode());
  } catch (err) {
    log.warn(`could not save ${EMPTY_PREFIXES_FILE}: ${(err as Error).message}`);
  }
}
