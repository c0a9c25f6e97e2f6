import { formatBytes, formatDuration, plural } from './format.js';
import { imageFileName } from './image-file-name.js';
import { keptExisting, replacedExisting } from './kept-existing.js';
import { leftOutWords } from './plan-summary.js';
import type { JobAdvice, JobResult, JobState, RepairGroup } from './jobs.js';
import { describePull, describePush, describeRemoteRestore, planOffsitePart } from './remote-job-summary.js';

/**
 * A finished job's result in one line, as its card shows it: "Backed up 32 files (1.20 MiB) to host/Documents/…".
 * The host sends the fields; the renderer words them here, and the job engine writes the same line at the end of
 * the job's log.
 */
/**
 * New and deduplicated bytes as the snapshot table counts them: deduplicated is all the store had already, shared
 * chunks and unchanged files together, and the unchanged files' part is named inside it.
 */
function sizeWords(newBytes: number, dedupBytes: number, reusedBytes: number): string {
  const unchanged = reusedBytes > 0 ? ` (${formatBytes(reusedBytes)} of it in unchanged files)` : '';
  return `${formatBytes(newBytes)} new, ${formatBytes(dedupBytes + reusedBytes)} deduplicated${unchanged}`;
}

export function describeJobResult(r: JobResult): string {
  switch (r.kind) {
    case 'create-store':
      return `Created datastore ${r.path}`;
    case 'backup':
      return (
        `Backed up ${plural(r.files, 'file')} (${formatBytes(r.bytes)}) to ${r.snapshot} in ${formatDuration(r.elapsedMs / 1000)}: ` +
        sizeWords(r.newBytes, r.dedupBytes, r.reusedBytes) +
        leftOutPart(r.leftOut)
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
    case 'restore-in-place':
      return describeInPlace(r);
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
    case 'plan-run':
      return describePlanRun(r);
    case 'push':
      return describePush(r);
    case 'pull':
      return describePull(r);
    case 'remote-restore':
      return describeRemoteRestore(r);
  }
}

function describePlanRun(r: Extract<JobResult, { kind: 'plan-run' }>): string {
  const parts = [`Plan “${r.plan}”: backed up ${plural(r.files ?? 0, 'file')}`];
  if (r.bytes !== undefined) parts[0] += ` (${formatBytes(r.bytes)})`;
  if (r.snapshot) parts[0] += ` to ${r.snapshot}`;
  if (r.newBytes !== undefined) parts.push(`${formatBytes(r.newBytes)} new`);
  if (r.pruned) parts.push(`${plural(r.pruned, 'old snapshot')} removed`);
  const offsite = planOffsitePart(r);
  if (offsite) parts.push(offsite);
  if (r.gc) parts.push('garbage collected');
  if (r.verify) parts.push(r.verify === 'ok' ? 'verified' : 'verify found damage');
  return parts.join('; ') + leftOutPart(r.leftOut);
}

/** "; 2 entries could not be read (not in the snapshot)", or nothing. */
function leftOutPart(count: number | undefined): string {
  return count ? `; ${leftOutWords(count)}` : '';
}

/** The summary a job's card shows: its result worded, "Cancelled", or what an older version recorded. */
export function jobSummary(job: JobState): string | undefined {
  if (job.status === 'cancelled') return cancelledWords(job);
  // A job from an older version's history has a result without a kind, and its summary worded then.
  return job.result?.kind ? describeJobResult(job.result) : job.summary;
}

/** A cancelled job: for a backup, that no snapshot stands and where the data it wrote went. */
function cancelledWords(job: JobState): string {
  // A plan's run cancelled after its backup (in its off-site copy or its maintenance) keeps that snapshot.
  if (job.result?.kind) return `Cancelled after: ${describeJobResult(job.result)}`;
  if (job.kind !== 'backup' && job.kind !== 'backup-image' && job.kind !== 'plan-run') return 'Cancelled';
  return (
    'Cancelled: no snapshot was made (the unfinished one was removed). The data it had written stays in the store ' +
    'until garbage collection removes it.'
  );
}

/** What to do about what a job found, as its card shows it after "What to do:". */
export function describeJobAdvice(advice: JobAdvice): string {
  switch (advice.kind) {
    case 'restore':
      return (
        'The entries named here were left out; everything else was restored. Verify the store to find every damaged ' +
        `chunk, then ${backUpAgain(advice.groups, 'files')}.`
      );
    case 'restore-image':
      return (
        'The byte ranges named here are in damaged or missing chunks. Verify the store to find every damaged chunk, ' +
        `then ${backUpAgain(advice.groups, 'image')}.` +
        (advice.readableRestKept
          ? ''
          : ' To get what can be read, restore again with “Keep what can be read”: the damaged ranges are zeros in <file>.damaged.')
      );
    case 'verify':
      if (!advice.leftOut) return `${capitalized(backUpAgain(advice.groups, 'files'))}. Then verify again.`;
      return (
        'The other entries named here could not be read and are not in the snapshot: give Cairn read access to them ' +
        `(or exclude them). Then ${backUpAgain(advice.groups, 'files')}, and verify again.`
      );
    case 'left-out':
      return (
        'The entries named here could not be read and are not in the snapshot; everything else was backed up. ' +
        'Give Cairn read access to them (or exclude them), then back up again.'
      );
  }
}

/** The advice a job's card shows: worded from its fields, or as an older version recorded it. */
export function jobAdvice(job: JobState): string | undefined {
  return job.advice ? describeJobAdvice(job.advice) : job.adviceText;
}

/**
 * The repair for damaged or missing chunks, one phrase for every job that finds them: back up each group's
 * recorded source again ("/home/ann/docs (host/docs)"), which writes those chunks anew while the data is there.
 */
function backUpAgain(groups: readonly RepairGroup[], data: 'files' | 'image'): string {
  const names = groups.map((g) => (g.source ? `${g.source} (${g.group})` : g.group));
  const are = data === 'files' ? 'are' : 'is';
  return `back up ${names.join(', ')} again: that writes the damaged and missing chunks anew while the ${data} ${are} still there`;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

type Result<K extends JobResult['kind']> = Extract<JobResult, { kind: K }>;

function describeRestore(r: Result<'restore'>): string {
  const restored =
    r.files === 0
      ? 'Nothing was restored'
      : `Restored ${plural(r.files, 'file')} (${formatBytes(r.bytes)}) to ${r.target}`;
  const kept = keptExisting(r.conflicts, r.keptSame, (differ) =>
    r.files === 0 ? ` (choose “Replace existing files” to overwrite ${differ === 1 ? 'it' : 'them'})` : '',
  );
  const failed = r.failed > 0 ? `; ${plural(r.failed, 'entry', 'entries')} of ${r.snapshot} could not be restored` : '';
  return restored + replacedExisting(r.replaced) + kept + failed;
}

/** "Restored 3 files of host/docs/… to /home/ann/docs: 1 came back, 1 replaced, 1 kept beside; 2 as they were". */
function describeInPlace(r: Result<'restore-in-place'>): string {
  const written = r.restored + r.replaced + r.keptBoth;
  const parts = [
    r.restored > 0 ? `${r.restored} came back` : '',
    r.replaced > 0 ? `${r.replaced} replaced` : '',
    r.keptBoth > 0 ? `${r.keptBoth} kept beside the local one` : '',
  ].filter(Boolean);
  const left = [
    r.unchanged > 0 ? `${plural(r.unchanged, 'file')} as they were` : '',
    r.skipped > 0 ? `${r.skipped} skipped` : '',
    r.newerLocal > 0 ? `${r.newerLocal} changed since the backup left alone` : '',
  ].filter(Boolean);
  const head =
    written === 0
      ? `Nothing was restored to ${r.place}`
      : `Restored ${plural(written, 'file')} of ${r.snapshot} to ${r.place}: ${parts.join(', ')}`;
  return left.length > 0 ? `${head}; ${left.join(', ')}` : head;
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
