import { encodeDirectoryRecord, type ArchiveEntry, type RecordPlace } from './archive-format.js';
import type { ArchiveStreamWriter } from './stream-writer.js';

/**
 * The folder records of a backup on their way into the metadata stream. A large file's digest is made from its
 * chunks' digests, which arrive from the chunk writers a little later (ArchiveStreamWriter digest runs), so a
 * record that holds such a file waits here until the payload stream has indexed everything it needs. Its place
 * in the metadata stream is fixed when it is queued (a digest has a fixed size), so its parent can point at it
 * at once, and records are written in the order they were queued.
 */
export class RecordQueue {
  private readonly queue: { entries: ArchiveEntry[]; place: RecordPlace; length: number; readyAt: number }[] = [];
  private queuedBytes = 0;

  constructor(private readonly meta: ArchiveStreamWriter, private readonly data: ArchiveStreamWriter) {}

  /** Where the next record will start in the metadata stream. */
  get offset(): number {
    return this.meta.offset + this.queuedBytes;
  }

  get size(): number {
    return this.queue.length;
  }

  /**
   * Queues a folder's record (written now if nothing waits); returns where it lies in the metadata stream.
   * `payloadBase` is where the folder's content starts in the payload stream (0 if it has none).
   */
  add(entries: ArchiveEntry[], payloadBase: number): { recordOffset: number; recordLength: number } {
    const recordOffset = this.offset;
    const place = { recordOffset, payloadBase };
    const readyAt = this.data.digestsDoneAt;
    if (this.queue.length === 0 && this.data.indexedOffset >= readyAt) {
      const record = encodeDirectoryRecord(entries, place);
      this.meta.write(record);
      return { recordOffset, recordLength: record.length };
    }
    // Encoded now for its length; encoded again once the digests are in (entries share their digest buffers).
    const recordLength = encodeDirectoryRecord(entries, place).length;
    this.queue.push({ entries, place, length: recordLength, readyAt });
    this.queuedBytes += recordLength;
    return { recordOffset, recordLength };
  }

  /** Writes the queued records whose digests are known, in order. */
  flush(): void {
    while (this.queue.length > 0 && this.data.indexedOffset >= this.queue[0]!.readyAt) {
      const { entries, place, length } = this.queue.shift()!;
      const record = encodeDirectoryRecord(entries, place);
      if (record.length !== length) throw new Error(`folder record changed length while queued (${length} -> ${record.length})`);
      this.meta.write(record);
      this.queuedBytes -= length;
    }
  }
}
