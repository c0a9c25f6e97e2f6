import { isCairnError } from '../errors.js';
import type { HeldDirectories } from '../fs/held-directories.js';
import { restoreFile, type ExistingPolicy, type FileRestoreJob } from './file-writer.js';
import type { FolderArchiveReader } from './folder-reader.js';

const SUFFIX = Buffer.from('.damaged');

/** Whether a file failed for a damaged or missing chunk (a copy of its readable rest can then be kept). */
export function isChunkDamage(err: unknown): boolean {
  return isCairnError(err, 'CORRUPT') || isCairnError(err, 'NOT_FOUND');
}

/**
 * Only when the user asks (keepDamaged): a file that could not be restored for a damaged chunk is written as
 * `<name>.damaged`, every readable chunk in place and the damaged ones as zeros, never under its own name.
 * Returns what to add to the file's failure ("the readable rest is in …"), or why that failed too.
 */
export function keepDamagedCopy(
  job: FileRestoreJob,
  dirs: HeldDirectories,
  reader: FolderArchiveReader,
  existing: ExistingPolicy,
): string {
  const copy: FileRestoreJob = { ...job, name: Buffer.concat([job.name, SUFFIX]), damagedCopy: true };
  const damaged: string[] = [];
  try {
    const slices = reader.data.slices(job.payloadOffset, job.size, {
      onDamaged: (chunk) => {
        damaged.push(chunk);
      },
    });
    if (!restoreFile(copy, dirs, { slices }, existing, () => {}))
      return `; ${job.archivePath}.damaged exists and was kept`;
    return `; the readable rest is in ${job.archivePath}.damaged (${damaged.length} damaged chunk${damaged.length === 1 ? '' : 's'} as zeros)`;
  } catch (err) {
    return `; no .damaged copy either: ${(err as Error).message}`;
  }
}
