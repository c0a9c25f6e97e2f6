import type { DirectoryRecordBuilder } from './archive-format.js';
import type { ArchiveStreamWriter } from './stream-writer.js';

/** A record waiting: to be encoded at its place once its digests are in, or already encoded. */
type QueuedRecord = ({ record: DirectoryRecordBuilder; recordOffset: number } | { bytes: Buffer }) & {
  length: number;
  readyAt: number;
};

/**
 * The folder records of a backup on their way into the metadata stream. A large file's digest is made from its
 * chunks' digests, which arrive from the chunk writers a little later (ArchiveStreamWriter digest runs), so a
 * record that holds such a file waits here until the payload stream has indexed everything it needs. Its place
 * in the metadata stream is fixed when it is queued (a digest has a fixed size), so its parent can point at it
 * at once, and records are written in the order they were queued.
 */
export class RecordQueue {
  private readonly queue: QueuedRecord[] = [];
  private queuedBytes = 0;

  constructor(
    private readonly meta: ArchiveStreamWriter,
    private readonly data: ArchiveStreamWriter,
  ) {}

  private readonly write = (bytes: Buffer): void => this.meta.write(bytes);

  /** Where the next record will start in the metadata stream. */
  get offset(): number {
    return this.meta.offset + this.queuedBytes;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Queues a folder's record (written now if nothing waits); returns where it lies in the metadata stream. */
  add(record: DirectoryRecordBuilder): { recordOffset: number; recordLength: number } {
    const recordOffset = this.offset;
    const recordLength = record.length;
    const readyAt = this.data.digestsDoneAt;
    if (this.queue.length === 0 && this.data.indexedOffset >= readyAt) record.writeTo(recordOffset, this.write);
    else {
      this.queue.push({ record, recordOffset, length: recordLength, readyAt });
      this.queuedBytes += recordLength;
    }
    return { recordOffset, recordLength };
  }

  /**
   * Queues a record that is already encoded for its place (a base record whose folder did not change): it
   * waits only for the records queued before it.
   */
  addEncoded(bytes: Buffer): { recordOffset: number; recordLength: number } {
    const recordOffset = this.offset;
    if (this.queue.length === 0) this.meta.write(bytes);
    else {
      this.queue.push({ bytes, length: bytes.length, readyAt: 0 });
      this.queuedBytes += bytes.length;
    }
    return { recordOffset, recordLength: bytes.length };
  }

  /** Writes the queued records whose digests are known, in order. */
  flush(): void {
    while (this.queue.length > 0 && this.data.indexedOffset >= this.queue[0]!.readyAt) {
      const next = this.queue.shift()!;
      if ('bytes' in next) this.meta.write(next.bytes);
      else next.record.writeTo(next.recordOffset, this.write);
      this.queuedBytes -= next.length;
    }
  }
}
