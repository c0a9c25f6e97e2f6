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
