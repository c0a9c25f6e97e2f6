import { formatBytes, formatDuration, plural } from './format.js';
import { imageFileName } from './image-file-name.js';
import type { JobResult, JobState } from './jobs.js';

/**
 * A finished job's result in one line, as its card shows it: "Backed up 32 files (1.20 MiB) to host/Documents/…".
 * The host sends the fields; the renderer words them here, and the job engine writes the same line at the end of
 * the job's log.
 */
export function describeJobResult(r: JobResult): string {
  switch (r.kind) {
    case 'create-store':
      return `Created datastore ${r.path}`;
    case 'backup':
      return (
        `Backed up ${plural(r.files, 'file')} (${formatBytes(r.bytes)}) to ${r.snapshot} in ${formatDuration(r.elapsedMs / 1000)}: ` +
        `${formatBytes(r.newBytes)} new, ${formatBytes(r.dedupBytes)} deduplicated, ${formatBytes(r.reusedBytes)} unchanged`
      );
    case 'restore':
      return describeRestore(r);
    case 'backup-image':
      return (
        `Backed up the image ${r.image} (${formatBytes(r.bytes)}) to ${r.snapshot} in ${formatDuration(r.elapsedMs / 1000)}: ` +
        `${formatBytes(r.newBytes)} new, ${formatBytes(r.dedupBytes)} deduplicated`
      );
    case 'restore-image':
      return describeImageRestore(r);
    case 'export-file':
      return `Saved ${r.path} (${formatBytes(r.bytes)}) from ${r.snapshot} to ${r.target}`;
    case 'download':
      return `Downloaded ${r.path} (${formatBytes(r.bytes)})`;
    case 'gc':
      return (
        `Freed ${formatBytes(r.removedBytes)} (${plural(r.removedChunks, 'chunk')}); ${formatBytes(r.pendingBytes)} pending, ` +
        `${formatBytes(r.diskBytes)} in use, dedup ${r.dedupFactor.toFixed(2)}×, in ${formatDuration(r.durationMs / 1000)}`
      );
    case 'prune':
      return (
        `Removed ${r.removed} of ${plural(r.removed + r.failed + r.kept, 'snapshot')} of ${r.group}` +
        (r.failed > 0 ? `; ${r.failed} could not be removed (in use, see the log)` : '') +
        '. Run garbage collection to free their data.'
      );
    case 'delete-group':
      return describeDeleteGroup(r);
    case 'verify':
      return describeVerify(r);
  }
}

/** The summary a job's card shows: its result worded, "Cancelled", or what an older version recorded. */
export function jobSummary(job: JobState): string | undefined {
  if (job.status === 'cancelled') return 'Cancelled';
  // A job from an older version's history has a result without a kind, and its summary worded then.
  return job.result?.kind ? describeJobResult(job.result) : job.summary;
}

type Result<K extends JobResult['kind']> = Extract<JobResult, { kind: K }>;

function describeRestore(r: Result<'restore'>): string {
  const restored =
    r.files === 0
      ? 'Nothing was restored'
      : `Restored ${plural(r.files, 'file')} (${formatBytes(r.bytes)}) to ${r.target}`;
  const kept =
    r.conflicts > 0
      ? `; kept ${plural(r.conflicts, 'existing file')}${r.files === 0 ? ' (choose “Replace existing files” to overwrite them)' : ''}`
      : '';
  const failed = r.failed > 0 ? `; ${plural(r.failed, 'entry', 'entries')} of ${r.snapshot} could not be restored` : '';
  return restored + kept + failed;
}

function describeImageRestore(r: Result<'restore-image'>): string {
  const image = imageFileName(r.archive);
  if (r.damaged === 0) return `Restored the image ${image} (${formatBytes(r.bytes)}) of ${r.snapshot} to ${r.target}`;
  const ranges = plural(r.damaged, 'damaged range');
  return r.written
    ? `Restored the readable rest of the image ${image} to ${r.written}: ${ranges} ${r.damaged === 1 ? 'is' : 'are'} zeros there`
    : `The image was not restored: ${ranges} of ${image} could not be read, so ${r.target} would not be the image backed up`;
}

function describeDeleteGroup(r: Result<'delete-group'>): string {
  if (r.kept > 0) {
    const them = r.kept === 1 ? 'it' : 'them';
    return (
      `Removed ${plural(r.removed, 'snapshot')} of ${r.group}; kept ${plural(r.kept, 'protected snapshot')}, and the group with ${them} ` +
      `(unprotect ${them} to delete the group)`
    );
  }
  if (r.removed === 0) return `Deleted the empty group ${r.group}`;
  return `Deleted group ${r.group} (${plural(r.removed, 'snapshot')} removed). Run garbage collection to free the space of its chunks.`;
}

function describeVerify(r: Result<'verify'>): string {
  if (r.snapshots === 0) return 'Nothing to verify: no finished snapshots';
  return (
    `${r.snapshots - r.failed - r.skipped} of ${plural(r.snapshots, 'snapshot')} ok` +
    (r.failed > 0 ? `, ${r.failed} damaged` : '') +
    (r.skipped > 0 ? `, ${r.skipped} skipped (in use)` : '') +
    `; ${plural(r.chunksChecked, 'chunk')} checked`
  );
}
