import { isUtf8 } from 'node:buffer';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, statSync } from 'node:fs';
import { CairnError, errnoCode, ioError } from '../errors.js';

/** A folder of the tree being written: its parent's number (-1 for the root), its name, and who it is. */
export interface HeldDirectory {
  parent: number;
  name: Uint8Array;
  dev: number;
  ino: number;
}

/** Open folder descriptors each thread keeps; more are closed, oldest use first, and opened again when needed. */
const OPEN_LIMIT = 64;
const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0);
const SLASH = Buffer.from('/');

/** Whether folders can be reached through their descriptors (`/proc/self/fd/N/name`, Linux). */
let viaDescriptors: boolean | undefined;

/**
 * The folders a restore writes into, each reached from the one it was created in, never again through its
 * path: a folder of the target swapped for a symlink while the restore runs cannot send a write outside.
 * A path handed out is good until the next call on this object (which may close the descriptor it names);
 * `pathsIn` hands out two that hold together.
 *
 * On Linux every path handed out is `/proc/self/fd/<folder's descriptor>/<name>`: the kernel resolves it in the
 * folder the descriptor holds, wherever that folder is now, and short whatever the depth (no PATH_MAX). A
 * descriptor is opened from its parent's descriptor without following a symlink and checked to be the folder
 * created (device and inode). Elsewhere the full path is used, after the folder at it is checked to be the
 * one created and not a symlink, right before each use: a narrow race remains there.
 */
export class HeldDirectories {
  private readonly fds = new Map<number, number>();

  /** `records[0]` is the root; pass the records of a restore planned on another thread to write from this one. */
  constructor(
    readonly rootPath: string,
    readonly records: HeldDirectory[] = [],
  ) {
    if (records.length === 0) {
      const st = lstatSync(rootPath, { throwIfNoEntry: false });
      if (!st?.isDirectory())
        throw new CairnError(
          'PATH_NOT_ALLOWED',
          `cannot restore into ${rootPath}: it is not a folder (or it is a symlink)`,
        );
      records.push({ parent: -1, name: new Uint8Array(0), dev: st.dev, ino: st.ino });
    }
    viaDescriptors ??= probeDescriptorPaths(rootPath);
  }

  /** The path of `name` in folder `dir`, for any fs call that does not follow a symlink in its last component. */
  pathIn(dir: number, name: Uint8Array | string): string | Buffer {
    this.trim();
    return this.resolve(dir, name);
  }

  /** Two paths at once (a rename, a hardlink): both good until the next call. */
  pathsIn(a: [number, Uint8Array | string], b: [number, Uint8Array | string]): [string | Buffer, string | Buffer] {
    this.trim();
    const first = this.resolve(...a);
    return [first, this.resolve(...b)];
  }

  private resolve(dir: number, name: Uint8Array | string): string | Buffer {
    const base = viaDescriptors ? Buffer.from(`/proc/self/fd/${this.open(dir)}`) : this.checkedPath(dir);
    const bytes =
      typeof name === 'string' ? Buffer.from(name) : Buffer.from(name.buffer, name.byteOffset, name.byteLength);
    const path = Buffer.concat([base, SLASH, bytes]);
    return isUtf8(path) ? path.toString() : path;
  }

  /** The open descriptor of a folder (for fchmod, futimes, fchown on the folder itself), good until the next call. */
  fd(dir: number): number {
    this.trim();
    return this.open(dir);
  }

  private open(dir: number): number {
    const held = this.fds.get(dir);
    if (held !== undefined) {
      this.fds.delete(dir);
      this.fds.set(dir, held); // most recently used last
      return held;
    }
    const record = this.records[dir]!;
    const path = record.parent < 0 ? this.rootPath : this.resolve(record.parent, record.name);
    const fd = openDirectory(path, this.shown(dir));
    const st = fstatSync(fd);
    if (st.dev !== record.dev || st.ino !== record.ino) {
      closeSync(fd);
      throw replaced(this.shown(dir));
    }
    this.fds.set(dir, fd);
    return fd;
  }

  /**
   * Makes (or finds) folder `name` in `parent` and returns its number. Refuses a symlink in its place (never
   * followed) and anything that is not a folder. `existed` tells whether it was there already.
   */
  makeChild(parent: number, name: Uint8Array): { dir: number; existed: boolean } {
    this.trim();
    const path = this.resolve(parent, name);
    let existed = false;
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw ioError('create folder', this.shownChild(parent, name), err);
      existed = true;
    }
    const fd = openDirectory(path, this.shownChild(parent, name));
    const st = fstatSync(fd);
    this.records.push({ parent, name, dev: st.dev, ino: st.ino });
    const dir = this.records.length - 1;
    this.fds.set(dir, fd);
    return { dir, existed };
  }

  /** The folder's path as a person reads it (for messages). */
  shown(dir: number): string {
    const parts: Uint8Array[] = [];
    for (let d = dir; d > 0; d = this.records[d]!.parent) parts.unshift(this.records[d]!.name);
    return [this.rootPath, ...parts.map((p) => Buffer.from(p).toString())].join('/');
  }

  private shownChild(parent: number, name: Uint8Array): string {
    return `${this.shown(parent)}/${Buffer.from(name).toString()}`;
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** Closes the least recently used descriptors beyond the limit (the root's stays open). */
  private trim(): void {
    for (const [dir, fd] of this.fds) {
      if (this.fds.size <= OPEN_LIMIT) return;
      if (dir === 0) continue;
      closeSync(fd);
      this.fds.delete(dir);
    }
  }

  /** Without descriptor paths: the folder's full path, checked to be the folder created and no symlink. */
  private checkedPath(dir: number): Buffer {
    const parts: Buffer[] = [Buffer.from(this.rootPath)];
    const chain: number[] = [];
    for (let d = dir; d > 0; d = this.records[d]!.parent) chain.unshift(d);
    for (const d of chain) parts.push(SLASH, Buffer.from(this.records[d]!.name));
    const path = Buffer.concat(parts);
    const st = lstatSync(path, { throwIfNoEntry: false });
    const record = this.records[dir]!;
    if (!st?.isDirectory() || st.dev !== record.dev || st.ino !== record.ino) throw replaced(this.shown(dir));
    return path;
  }
}

function openDirectory(path: string | Buffer, shown: string): number {
  try {
    return openSync(path, DIR_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    // A symlink in a folder's place fails as ELOOP or, with O_DIRECTORY, as ENOTDIR: lstat tells them apart.
    const symlink =
      code === 'ELOOP' || (code === 'ENOTDIR' && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink());
    if (symlink) throw new CairnError('PATH_NOT_ALLOWED', `refusing to restore through ${shown}: it is a symlink`);
    if (code === 'ENOTDIR') throw new CairnError('ALREADY_EXISTS', `cannot restore into ${shown}: it is not a folder`);
    throw ioError('open folder', shown, err);
  }
}

function replaced(shown: string): CairnError {
  return new CairnError(
    'PATH_NOT_ALLOWED',
    `folder ${shown} was replaced or moved while the restore ran; nothing more is written into it`,
  );
}

function probeDescriptorPaths(rootPath: string): boolean {
  if (process.platform !== 'linux') return false;
  let fd: number | undefined;
  try {
    fd = openSync(rootPath, DIR_FLAGS);
    const st = fstatSync(fd);
    const via = statSync(`/proc/self/fd/${fd}/.`);
    return via.ino === st.ino && via.dev === st.dev;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
