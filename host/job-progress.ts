import type { JobProgress } from '../contract/jobs.js';
import type { FolderBackupProgress } from '../core/archive/folder-backup.js';
import type { ImageTransferProgress } from '../core/image/image-backup.js';

/** A folder backup's progress as a job card shows it. */
export function folderBackupProgress(p: FolderBackupProgress): JobProgress {
  return {
    phase: p.phase,
    filesDone: p.filesDone,
    filesTotal: p.filesTotal,
    bytesDone: p.bytesDone,
    bytesTotal: p.bytesTotal,
    rate: p.rate,
    etaSeconds: p.etaSeconds,
    currentPath: p.currentPath,
    bytesRead: p.bytesRead,
    bytesReused: p.bytesReused,
    newBytes: p.newBytes,
    dedupBytes: p.dedupBytes,
  };
}

/** What every restore reports (folder restores, in place or from a remote). */
interface RestoreProgressFields {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
  rate: number;
  etaSeconds?: number;
  currentPath: string;
}

/** A restore's progress as a job card shows it, under `phase`. */
export function restoreProgress(phase: string, p: RestoreProgressFields): JobProgress {
  const { filesDone, filesTotal, bytesDone, bytesTotal, rate, etaSeconds, currentPath } = p;
  return { phase, filesDone, filesTotal, bytesDone, bytesTotal, rate, etaSeconds, currentPath };
}

/** An image backup's progress as a job card shows it. */
export function imageBackupProgress(p: ImageTransferProgress): JobProgress {
  return {
    phase: 'backing-up',
    bytesDone: p.bytesDone,
    bytesTotal: p.bytesTotal,
    rate: p.rate,
    etaSeconds: p.etaSeconds,
    newBytes: p.newBytes,
    dedupBytes: p.dedupBytes,
  };
}

/** Either backup's progress (a plan backs up a folder or an image). */
export function backupProgress(p: FolderBackupProgress | ImageTransferProgress): JobProgress {
  return 'filesDone' in p ? folderBackupProgress(p) : imageBackupProgress(p);
}
