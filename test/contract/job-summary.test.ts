import { describe, expect, it } from 'vitest';
import { describeJobAdvice, describeJobResult, jobAdvice, jobSummary } from '../../contract/job-summary.js';
import type { JobState } from '../../contract/jobs.js';

const SNAP = 'host/Documents/2026-12-01T10:00:00Z';

/** The host sends a job's result as fields; these are the words its card (and the end of its log) shows. */
describe('job results in words', () => {
  it('words a push that left out snapshots older than the remote’s newest', () => {
    const push = { kind: 'push', remote: 'offsite', pushed: 1, present: 2, bytes: 2048, chunks: 3 } as const;
    const rest = { chunksFoundPresent: 1, requests: 40, elapsedMs: 2000 };
    expect(describeJobResult({ ...push, ...rest, olderSkipped: 3 })).toBe(
      'Pushed 1 snapshot to offsite in 2 s: 2.00 KiB, 2 chunks uploaded; 2 snapshots were there already (skipped); ' +
        '3 snapshots older than the newest there left out (pruned there?); 40 requests',
    );
    expect(describeJobResult({ ...push, ...rest })).not.toMatch(/older/);
  });

  it('words a backup, a restore and an export', () => {
    expect(
      describeJobResult({
        kind: 'backup',
        snapshot: SNAP,
        files: 32,
        bytes: 3 * 1024 * 1024,
        newBytes: 977,
        dedupBytes: 0,
        reusedBytes: 2048,
        excluded: 1,
        warnings: 0,
        elapsedMs: 100_000,
      }),
    ).toBe(
      `Backed up 32 files (3.00 MiB) to ${SNAP} in 1 min 40 s: 977 B new, 2.00 KiB deduplicated (2.00 KiB of it in unchanged files)`,
    );
    const backup = { kind: 'backup', snapshot: SNAP, files: 1, bytes: 5, newBytes: 5, dedupBytes: 0 } as const;
    const rest = { reusedBytes: 0, excluded: 0, warnings: 2, elapsedMs: 1000 };
    expect(describeJobResult({ ...backup, ...rest, leftOut: 2 })).toBe(
      `Backed up 1 file (5 B) to ${SNAP} in 1 s: 5 B new, 0 B deduplicated; ` +
        '2 entries could not be read (not in the snapshot)',
    );
    const restore = { kind: 'restore', snapshot: SNAP, target: '/r', bytes: 1024 } as const;
    expect(describeJobResult({ ...restore, files: 1, conflicts: 0, failed: 0 })).toBe(
      'Restored 1 file (1.00 KiB) to /r',
    );
    expect(describeJobResult({ ...restore, files: 0, conflicts: 13, failed: 0 })).toBe(
      'Nothing was restored; kept 13 existing files (choose “Replace existing files” to overwrite them)',
    );
    expect(describeJobResult({ ...restore, files: 2, conflicts: 1, failed: 1 })).toBe(
      `Restored 2 files (1.00 KiB) to /r; kept 1 existing file; 1 entry of ${SNAP} could not be restored`,
    );
    // Files there as backed up apart from those that differ (a record of an older version has no keptSame).
    expect(describeJobResult({ ...restore, files: 0, conflicts: 13, keptSame: 10, failed: 0 })).toBe(
      'Nothing was restored; 10 files were there already as backed up; kept 3 existing files that differ in size ' +
        'or date (choose “Replace existing files” to overwrite them)',
    );
    expect(describeJobResult({ ...restore, files: 3, conflicts: 0, replaced: 2, failed: 0 })).toBe(
      'Restored 3 files (1.00 KiB) to /r; 2 files there that differed were replaced',
    );
    expect(describeJobResult({ ...restore, files: 1, conflicts: 4, keptSame: 4, failed: 0 })).toBe(
      'Restored 1 file (1.00 KiB) to /r; 4 files were there already as backed up',
    );
    expect(
      describeJobResult({ kind: 'export-file', snapshot: SNAP, path: 'a.txt', target: '/t/a.txt', bytes: 7200 }),
    ).toBe(`Saved a.txt (7.03 KiB) from ${SNAP} to /t/a.txt`);
    expect(describeJobResult({ kind: 'download', path: 'a.txt', bytes: 5 })).toBe('Downloaded a.txt (5 B)');
    expect(describeJobResult({ kind: 'create-store', path: '/s' })).toBe('Created datastore /s');
  });

  it('words an image backup and restore, a damaged one by what was written', () => {
    expect(
      describeJobResult({
        kind: 'backup-image',
        snapshot: 'host/disk/2026-12-01T10:00:00Z',
        image: 'disk.img',
        archive: 'disk.img.fidx',
        bytes: 2 * 1024 * 1024,
        chunks: 2,
        newBytes: 63,
        dedupBytes: 1024 * 1024,
        elapsedMs: 400,
      }),
    ).toBe(
      'Backed up the image disk.img (2.00 MiB) to host/disk/2026-12-01T10:00:00Z in 0 s: 63 B new, 1.00 MiB deduplicated',
    );
    const image = {
      kind: 'restore-image',
      snapshot: SNAP,
      archive: 'sda.raw.img.fidx',
      target: '/t/sda.raw',
      bytes: 4096,
      chunks: 1,
    } as const;
    expect(describeJobResult({ ...image, damaged: 0 })).toBe(
      `Restored the image sda.raw (4.00 KiB) of ${SNAP} to /t/sda.raw`,
    );
    expect(describeJobResult({ ...image, damaged: 1, written: '/t/sda.raw.damaged' })).toBe(
      'Restored the readable rest of the image sda.raw to /t/sda.raw.damaged: 1 damaged range is zeros there',
    );
    expect(describeJobResult({ ...image, damaged: 2 })).toBe(
      'The image was not restored: 2 damaged ranges of sda.raw could not be read, so /t/sda.raw would not be the image backed up',
    );
  });

  it('words GC, prune, deleting a group and verify', () => {
    expect(
      describeJobResult({
        kind: 'gc',
        removedChunks: 1,
        removedBytes: 4096,
        pendingChunks: 1,
        pendingBytes: 63,
        diskChunks: 5,
        diskBytes: 1690,
        indexFileCount: 2,
        indexDataBytes: 3 << 20,
        dedupFactor: 1948.878,
        durationMs: 1200,
        missingChunks: 0,
        warnings: 0,
      }),
    ).toBe('Freed 4.00 KiB (1 chunk); 63 B pending, 1.65 KiB in use, dedup 1948.88×, in 1 s');
    expect(describeJobResult({ kind: 'prune', group: 'host/docs', removed: 1, failed: 0, kept: 1 })).toBe(
      'Removed 1 of 2 snapshots of host/docs. Run garbage collection to free their data.',
    );
    expect(describeJobResult({ kind: 'prune', group: 'host/docs', removed: 1, failed: 1, kept: 0 })).toBe(
      'Removed 1 of 2 snapshots of host/docs; 1 could not be removed (in use, see the log). Run garbage collection to free their data.',
    );
    const group = { kind: 'delete-group', group: 'host/docs' } as const;
    expect(describeJobResult({ ...group, removed: 0, kept: 0 })).toBe('Deleted the empty group host/docs');
    expect(describeJobResult({ ...group, removed: 2, kept: 0 })).toBe(
      'Deleted group host/docs (2 snapshots removed). Run garbage collection to free the space of its chunks.',
    );
    expect(describeJobResult({ ...group, removed: 2, kept: 1 })).toBe(
      'Removed 2 snapshots of host/docs; kept 1 protected snapshot, and the group with it (unprotect it to delete the group)',
    );
    const verify = { kind: 'verify', ok: false, missingChunks: 0 } as const;
    expect(describeJobResult({ ...verify, snapshots: 0, failed: 0, skipped: 0, chunksChecked: 0 })).toBe(
      'Nothing to verify: no finished snapshots',
    );
    expect(describeJobResult({ ...verify, snapshots: 3, failed: 1, skipped: 1, chunksChecked: 1 })).toBe(
      '1 of 3 snapshots ok, 1 damaged, 1 skipped (in use); 1 chunk checked',
    );
  });

  it("gives a card's summary: cancelled, worded from the result, or as an older version recorded it", () => {
    const job: JobState = {
      id: 'j',
      kind: 'create-store',
      title: 'Create',
      store: '/s',
      status: 'done',
      startedAt: 0,
      progress: { phase: 'done' },
      log: [],
    };
    expect(jobSummary(job)).toBeUndefined();
    expect(jobSummary({ ...job, result: { kind: 'create-store', path: '/s' } })).toBe('Created datastore /s');
    expect(jobSummary({ ...job, status: 'cancelled' })).toBe('Cancelled');
    // A cancelled backup says that no snapshot stands and where its data went.
    const backup = { ...job, kind: 'backup', status: 'cancelled' } as const;
    expect(jobSummary(backup)).toBe(
      'Cancelled: no snapshot was made (the unfinished one was removed). The data it had written stays in the store ' +
        'until garbage collection removes it.',
    );
    expect(jobSummary({ ...backup, kind: 'plan-run' })).toMatch(/^Cancelled: no snapshot was made/);
    // A job history written before results had a kind: its result is plain fields, its summary the words then.
    const legacy = { ...job, summary: 'Created datastore /old', result: { path: '/old' } } as unknown as JobState;
    expect(jobSummary(legacy)).toBe('Created datastore /old');
  });
});

/** The advice of a job that needs attention arrives as fields too; these are the words after "What to do:". */
describe('job advice in words', () => {
  const docs = { group: 'host/docs', source: '/home/ann/docs' };
  const anew = 'that writes the damaged and missing chunks anew while the';

  it('words the repair of a restore and a verify, each group once, by its source when it records one', () => {
    expect(describeJobAdvice({ kind: 'restore', groups: [docs] })).toBe(
      'The entries named here were left out; everything else was restored. Verify the store to find every damaged ' +
        `chunk, then back up /home/ann/docs (host/docs) again: ${anew} files are still there.`,
    );
    expect(describeJobAdvice({ kind: 'verify', groups: [docs, { group: 'host/old' }] })).toBe(
      `Back up /home/ann/docs (host/docs), host/old again: ${anew} files are still there. Then verify again.`,
    );
    // A plan's run whose verify found damage and whose backup left entries out: both, the unreadable ones first.
    expect(describeJobAdvice({ kind: 'verify', groups: [docs], leftOut: true })).toBe(
      'The other entries named here could not be read and are not in the snapshot: give Cairn read access to them ' +
        `(or exclude them). Then back up /home/ann/docs (host/docs) again: ${anew} files are still there, and verify again.`,
    );
  });

  it('words the repair of an image restore, saying how to keep what can be read when it was not kept', () => {
    const disk = { group: 'host/disk', source: '/images/disk.img' };
    const repair =
      'The byte ranges named here are in damaged or missing chunks. Verify the store to find every damaged chunk, ' +
      `then back up /images/disk.img (host/disk) again: ${anew} image is still there.`;
    expect(describeJobAdvice({ kind: 'restore-image', groups: [disk], readableRestKept: true })).toBe(repair);
    expect(describeJobAdvice({ kind: 'restore-image', groups: [disk], readableRestKept: false })).toBe(
      `${repair} To get what can be read, restore again with “Keep what can be read”: the damaged ranges are zeros in <file>.damaged.`,
    );
  });

  it("gives a card's advice: worded from the fields, as an older version recorded it, or none", () => {
    const job: JobState = {
      id: 'j',
      kind: 'verify',
      title: 'Verify',
      store: '/s',
      status: 'attention',
      startedAt: 0,
      progress: { phase: 'verifying' },
      log: [],
    };
    expect(jobAdvice(job)).toBeUndefined();
    expect(jobAdvice({ ...job, advice: { kind: 'verify', groups: [{ group: 'host/docs' }] } })).toBe(
      `Back up host/docs again: ${anew} files are still there. Then verify again.`,
    );
    expect(jobAdvice({ ...job, adviceText: 'Back up host/docs again.' })).toBe('Back up host/docs again.');
  });
});
