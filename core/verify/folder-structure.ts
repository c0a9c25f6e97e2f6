import { createHash } from 'node:crypto';
import { EntryKind, META_ARCHIVE, type DirectoryEntry, type FileEntry } from '../archive/archive-format.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import { displayName } from '../archive/names.js';
import type { DigestSet } from '../chunk-store/digest-set.js';
import type { SnapshotReader } from '../datastore/snapshot-reader.js';

export interface StructureProblem {
  /** The entry at fault, as shown (`/docs/a.txt`; `/` for the root). */
  path: string;
  message: string;
}

export interface StructureCheckOptions {
  /** Files whose content was already found to match their digest in this job (see contentKey). */
  checkedFiles: DigestSet;
  /** Called between files and folders: verify yields to the event loop there and checks for a cancel. */
  pace: () => Promise<void> | undefined;
  /** Every chunk this check read and found sound, with its length: verify's chunk pass need not decode it again. */
  onChunkVerified?: (digest: Buffer, length: number) => void;
  maxProblems?: number;
}

/**
 * Checks a folder snapshot the way restore reads it: every folder record decodes (safe, unique, sorted names;
 * no record pointing forward, so no cycle), every file and hardlink lies inside the payload stream, a file of
 * whole chunks has the digest its chunks' digests make, and a smaller file's content hashes to its digest. A
 * file whose content was found to match in this job already (same chunks, same place in them) is not read
 * again. Chunk damage is verify's chunk pass's to report: a file on a chunk that cannot be read is passed over.
 */
export async function checkFolderStructure(
  snapshot: SnapshotReader,
  options: StructureCheckOptions,
): Promise<StructureProblem[]> {
  return new FolderStructureCheck(snapshot, options).run();
}

class FolderStructureCheck {
  private readonly problems: StructureProblem[] = [];
  private reader: FolderArchiveReader | undefined;

  constructor(
    private readonly snapshot: SnapshotReader,
    private readonly options: StructureCheckOptions,
  ) {}

  async run(): Promise<StructureProblem[]> {
    try {
      this.reader = new FolderArchiveReader(this.snapshot, { onChunkVerified: this.options.onChunkVerified });
    } catch (err) {
      this.report('/', `${META_ARCHIVE}: the folder listing cannot be read: ${(err as Error).message}`);
      return this.problems;
    }
    await this.walk(this.reader.root, '');
    return this.problems;
  }

  private get full(): boolean {
    return this.problems.length >= (this.options.maxProblems ?? 100);
  }

  private report(path: string, message: string): void {
    if (!this.full) this.problems.push({ path, message });
  }

  private async walk(dir: DirectoryEntry, path: string): Promise<void> {
    const reader = this.reader!;
    let entries;
    try {
      entries = reader.readDirectory(dir);
    } catch (err) {
      this.report(path || '/', `its listing cannot be restored: ${(err as Error).message}`);
      return;
    }
    for (const entry of entries) {
      if (this.full) return;
      const child = `${path}/${displayName(entry.name)}`;
      if (entry.kind === EntryKind.Directory) await this.walk(entry, child);
      else if (entry.kind === EntryKind.File || entry.kind === EntryKind.Hardlink) this.checkFile(entry, child);
      await this.options.pace();
    }
  }

  private checkFile(entry: FileEntry, path: string): void {
    const reader = this.reader!;
    const data = reader.dataIndex;
    const end = entry.payloadOffset + entry.size;
    if (entry.size > 0 && (entry.payloadOffset < 0 || end > data.size)) {
      this.report(
        path,
        `its content [${entry.payloadOffset}, ${end}) lies outside the payload stream's ${data.size} bytes`,
      );
      return;
    }
    let byChunks: Buffer | undefined;
    try {
      byChunks = reader.chunkDigestOf(entry.payloadOffset, entry.size);
    } catch (err) {
      this.report(path, (err as Error).message);
      return;
    }
    if (byChunks) {
      if (!byChunks.equals(entry.digest))
        this.report(path, 'its chunks do not make the digest the snapshot records for it');
      return;
    }
    this.checkContent(entry, path);
  }

  /** A small file: its content's SHA-256 against its digest, unless this job has checked the same bytes. */
  private checkContent(entry: FileEntry, path: string): void {
    const reader = this.reader!;
    const key = contentKey(reader, entry);
    if (this.options.checkedFiles.has(key)) return;
    const hash = createHash('sha256');
    try {
      for (const slice of reader.data.slices(entry.payloadOffset, entry.size)) hash.update(slice);
    } catch {
      return; // a damaged or missing chunk: the chunk pass names it and the files it holds
    }
    if (!hash.digest().equals(entry.digest)) {
      this.report(path, 'its content does not match the SHA-256 the snapshot records for it');
      return;
    }
    this.options.checkedFiles.add(key);
  }
}

/**
 * What a small file's check depends on: the digests of the chunks its content lies on, where in the first one
 * it starts, its size and the digest it must have. Chunks are checked against their digests, so equal keys
 * mean equal bytes: an unchanged file in the next snapshot, whose chunks were reused, is not read again.
 */
function contentKey(reader: FolderArchiveReader, entry: FileEntry): Buffer {
  const hash = createHash('sha256');
  const place = Buffer.alloc(16);
  if (entry.size > 0) {
    const index = reader.dataIndex;
    const first = index.chunkAt(entry.payloadOffset);
    const last = index.chunkAt(entry.payloadOffset + entry.size - 1);
    for (let i = first; i <= last; i++) hash.update(index.digest(i));
    place.writeBigUInt64LE(BigInt(entry.payloadOffset - index.chunkStart(first)), 0);
  }
  place.writeBigUInt64LE(BigInt(entry.size), 8);
  return hash.update(place).update(entry.digest).digest();
}
