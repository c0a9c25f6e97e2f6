import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backupFolder } from '../../../core/archive/folder-backup.js';
import { snapshotPath, type BackupGroupRef, type SnapshotRef } from '../../../core/backup/backup-names.js';
import type { Datastore, SnapshotInfo } from '../../../core/datastore/datastore.js';
import { MemoryLogger } from '../../../core/log.js';
import { deleteGroup, forgetSnapshot, FORGOTTEN_PREFIX } from '../../../core/prune/forget.js';
import { pruneGroup, type PruneOutcome } from '../../../core/prune/prune.js';
import { verify } from '../../../core/verify/verify.js';
import { pseudoRandomBytes } from '../../support/data.js';
import { useDatastore } from '../../support/folder-store.js';
import { expectCode } from '../../support/errors.js';
import { useChildScripts } from '../../support/processes.js';
import { usePinnedTimeZone } from '../../support/timezone.js';
import { put } from '../../support/tree.js';
import { useTempDirs } from '../../support/temp.js';

usePinnedTimeZone('UTC');

interface Child {
  pid: number;
  /** SIGKILL, then wait until the process is gone. */
  kill(): Promise<void>;
}

/**
 * Another process that opens the store through the built code, runs `body` with `store` in scope (taking some
 * lock) and stays alive holding it until killed, as the app or a second CLI would. Killed after each test.
 */
function useChildren(): (storeRoot: string, body: string) => Promise<Child> {
  const start = useChildScripts();
  return async (storeRoot, body) => {
    const h = await start(`
      const { Datastore } = await load('core/datastore/datastore.js');
      const store = Datastore.open(${JSON.stringify(storeRoot)});
      ${body}
      ready({});
      setInterval(() => {}, 1 << 30);
    `);
    return { pid: h.pid, kill: h.kill };
  };
}

const HOUR = 3600;
/** Monday 2025-03-03 08:00 UTC. */
const T0 = Date.UTC(2025, 2, 3, 8) / 1000;

/** A small finished snapshot (one blob) at a given time, or the next free second. */
function snapshotAt(
  store: Datastore,
  group: BackupGroupRef,
  time?: number,
  options: { finish?: boolean } = {},
): SnapshotInfo {
  const writer = store.beginSnapshot(group, { time });
  writer.addBlob('info.blob', Buffer.from(`snapshot ${writer.path}\n`));
  if (options.finish !== false) writer.finish();
  return store.snapshotInfo(writer.ref);
}

function snapshots(store: Datastore, group: BackupGroupRef, n: number): SnapshotInfo[] {
  return Array.from({ length: n }, () => snapshotAt(store, group));
}

function paths(list: readonly SnapshotRef[]): string[] {
  return list.map((s) => snapshotPath(s));
}

function remaining(store: Datastore, group: BackupGroupRef): string[] {
  return paths(store.listSnapshots(group));
}

function table(outcomes: PruneOutcome[]): [string, string, string][] {
  return outcomes.map((o) => [snapshotPath(o.snapshot), o.mark, o.outcome]);
}

describe('pruneGroup on a real store', () => {
  const ctx = useDatastore();

  /**
   * Six snapshots over three days (08:00 and 20:00 UTC): the oldest unfinished (a crashed backup), the second
   * protected. With keep-last 1 and keep-daily 2, by the rules of spec 8 (worked out by hand, newest first):
   * F kept by keep-last; E's day is F's, already kept, so no rule takes it; D kept by keep-daily (day 2); C is
   * older than D in the same day; B protected; A unfinished and not the newest.
   */
  function sixSnapshots(id: string): SnapshotInfo[] {
    const group = { type: 'host', id } as const;
    const a = snapshotAt(ctx.store, group, T0, { finish: false });
    const b = snapshotAt(ctx.store, group, T0 + 12 * HOUR);
    ctx.store.setProtected(b, true);
    const rest = [24, 36, 48, 60].map((h) => snapshotAt(ctx.store, group, T0 + h * HOUR));
    return [a, ctx.store.snapshotInfo(b), ...rest];
  }

  it('a dry run returns keep or remove for every snapshot with its reason, and removes nothing', () => {
    const group = { type: 'host', id: 'dry' } as const;
    const [a, b, c, d, e, f] = sixSnapshots('dry');
    expect(a!.finished).toBe(false);
    expect(b!.protected).toBe(true);
    const before = remaining(ctx.store, group);

    const outcomes = pruneGroup(ctx.store, group, { keepLast: 1, keepDaily: 2 }, { dryRun: true });
    expect(table(outcomes)).toEqual([
      [f!.path, 'keep', 'kept'],
      [e!.path, 'remove', 'would-remove'],
      [d!.path, 'keep', 'kept'],
      [c!.path, 'remove', 'would-remove'],
      [b!.path, 'keep-protected', 'kept'],
      [a!.path, 'remove', 'would-remove'],
    ]);
    expect(outcomes.map((o) => o.rule)).toEqual(['last', undefined, 'daily', undefined, undefined, undefined]);
    expect(outcomes[0]!.reason).toMatch(/keep-last/);
    expect(outcomes[1]!.reason).toMatch(/not selected/);
    expect(outcomes[2]!.reason).toBe('kept by keep-daily (2025/03/04)');
    expect(outcomes[3]!.reason).toMatch(/same daily bucket 2025\/03\/04/);
    expect(outcomes[4]!.reason).toMatch(/protected/);
    expect(outcomes[5]!.reason).toMatch(/unfinished/);
    expect(outcomes.every((o) => o.error === undefined)).toBe(true);

    expect(remaining(ctx.store, group)).toEqual(before);
    for (const s of [a, b, c, d, e, f]) expect(existsSync(ctx.store.snapshotDir(s!)), s!.path).toBe(true);
  });

  it('a real run removes exactly the snapshots marked remove, oldest first, and keeps the protected one', () => {
    const group = { type: 'host', id: 'real' } as const;
    const [a, b, c, d, e, f] = sixSnapshots('real');
    const log = new MemoryLogger();
    const outcomes = pruneGroup(ctx.store, group, { keepLast: 1, keepDaily: 2 }, { log });
    expect(table(outcomes)).toEqual([
      [f!.path, 'keep', 'kept'],
      [e!.path, 'remove', 'removed'],
      [d!.path, 'keep', 'kept'],
      [c!.path, 'remove', 'removed'],
      [b!.path, 'keep-protected', 'kept'],
      [a!.path, 'remove', 'removed'],
    ]);
    for (const s of [a, c, e]) expect(existsSync(ctx.store.snapshotDir(s!)), s!.path).toBe(false);
    for (const s of [b, d, f]) expect(existsSync(ctx.store.snapshotDir(s!)), s!.path).toBe(true);
    expect(remaining(ctx.store, group)).toEqual([b!.path, d!.path, f!.path]);
    expect(readdirSync(ctx.store.groupDir(group)).filter((n) => n.startsWith(FORGOTTEN_PREFIX))).toEqual([]);
    // Oldest first.
    const removed = log.lines.filter((l) => l.message.startsWith('removed ')).map((l) => l.message.split(' ')[1]);
    expect(removed).toEqual([a!.path, c!.path, e!.path]);
    expect(log.lines.filter((l) => l.level === 'warn')).toEqual([]);

    // Pruning again to the newest one: the protected snapshot still stays.
    const again = pruneGroup(ctx.store, group, { keepLast: 1 });
    expect(table(again)).toEqual([
      [f!.path, 'keep', 'kept'],
      [d!.path, 'remove', 'removed'],
      [b!.path, 'keep-protected', 'kept'],
    ]);
    expect(remaining(ctx.store, group)).toEqual([b!.path, f!.path]);
    expect(ctx.store.isProtected(b!)).toBe(true);
  });

  it('with no keep option keeps everything; invalid options are refused before anything is touched', async () => {
    const group = { type: 'host', id: 'keep-all' } as const;
    const list = snapshots(ctx.store, group, 3);
    const outcomes = pruneGroup(ctx.store, group, {});
    expect(outcomes.map((o) => o.outcome)).toEqual(['kept', 'kept', 'kept']);
    expect(remaining(ctx.store, group)).toEqual(paths(list));
    await expectCode(() => pruneGroup(ctx.store, group, { keepLast: -1 }), 'INVALID_ARGUMENT', /keep-last/);
    await expectCode(() => pruneGroup(ctx.store, group, { keepDaily: 1.5 }), 'INVALID_ARGUMENT', /keep-daily/);
    expect(remaining(ctx.store, group)).toEqual(paths(list));
  });
});

describe('forget, delete group, notes and protection', () => {
  const ctx = useDatastore();
  const child = useChildren();
  const scratch = useTempDirs();

  it('forgetSnapshot removes the snapshot directory and leaves the others', () => {
    const group = { type: 'host', id: 'forget' } as const;
    const [s1, s2, s3] = snapshots(ctx.store, group, 3);
    forgetSnapshot(ctx.store, s2!);
    expect(existsSync(ctx.store.snapshotDir(s2!))).toBe(false);
    expect(remaining(ctx.store, group)).toEqual([s1!.path, s3!.path]);
    expect(readdirSync(ctx.store.groupDir(group)).sort()).toEqual(
      [s1!.path, s3!.path]
        .map((p) => p.split('/')[2])
        .concat('owner')
        .sort(),
    );
  });

  it('forgetting a snapshot that does not exist is NOT_FOUND', async () => {
    const group = { type: 'host', id: 'forget-missing' } as const;
    const [s1] = snapshots(ctx.store, group, 1);
    await expectCode(() => forgetSnapshot(ctx.store, { ...s1!, time: s1!.time + 100 }), 'NOT_FOUND');
    expect(remaining(ctx.store, group)).toEqual([s1!.path]);
  });

  it('refuses a protected snapshot (PROTECTED) until it is unprotected', async () => {
    const group = { type: 'host', id: 'protected' } as const;
    const [s1, s2] = snapshots(ctx.store, group, 2);
    ctx.store.setProtected(s1!, true);
    await expectCode(() => forgetSnapshot(ctx.store, s1!), 'PROTECTED', new RegExp(`${s1!.path} is protected`));
    expect(existsSync(ctx.store.snapshotDir(s1!))).toBe(true);
    ctx.store.setProtected(s1!, false);
    forgetSnapshot(ctx.store, s1!);
    expect(remaining(ctx.store, group)).toEqual([s2!.path]);
  });

  it('refuses while another process reads the snapshot (LOCKED, naming it and its pid); takes over once it is killed', async () => {
    const group = { type: 'host', id: 'reader' } as const;
    const [s1, s2] = snapshots(ctx.store, group, 2);
    const purpose = `restore of ${s1!.path}`;
    const reader = await child(
      ctx.root,
      `store.lockSnapshotShared(${JSON.stringify({ ...group, time: s1!.time })}, ${JSON.stringify(purpose)});`,
    );
    expect(reader.pid).not.toBe(process.pid);

    const e = await expectCode(() => forgetSnapshot(ctx.store, s1!), 'LOCKED', new RegExp(`busy: ${purpose}`));
    expect(e.message).toContain(`pid ${reader.pid}`);
    expect(existsSync(ctx.store.snapshotDir(s1!))).toBe(true);
    // Prune meets the same lock and says so.
    const pruned = pruneGroup(ctx.store, group, { keepLast: 1 });
    expect(pruned[1]).toMatchObject({ outcome: 'failed', error: expect.stringContaining(purpose) });
    expect(remaining(ctx.store, group)).toEqual([s1!.path, s2!.path]);

    await reader.kill();
    forgetSnapshot(ctx.store, s1!);
    expect(remaining(ctx.store, group)).toEqual([s2!.path]);
  });

  it("a running backup's base cannot be forgotten or pruned; prune reports it and goes on with the others", async () => {
    const group = { type: 'host', id: 'running' } as const;
    const [s1, s2, s3, s4] = snapshots(ctx.store, group, 4);
    const backup = await child(
      ctx.root,
      `
      const session = store.startBackup(${JSON.stringify(group)});
      if (!session.holdSnapshot(${JSON.stringify({ ...group, time: s2!.time })}, true)) throw new Error('base not finished');
    `,
    );

    const e = await expectCode(() => forgetSnapshot(ctx.store, s2!), 'LOCKED', /busy: backup of host\/running/);
    expect(e.message).toContain(`pid ${backup.pid}`);

    const log = new MemoryLogger();
    const outcomes = pruneGroup(ctx.store, group, { keepLast: 1 }, { log });
    expect(table(outcomes)).toEqual([
      [s4!.path, 'keep', 'kept'],
      [s3!.path, 'remove', 'removed'],
      [s2!.path, 'remove', 'failed'],
      [s1!.path, 'remove', 'removed'],
    ]);
    expect(outcomes[2]!.error).toMatch(new RegExp(`busy: backup of host/running.*pid ${backup.pid}`));
    expect(remaining(ctx.store, group)).toEqual([s2!.path, s4!.path]);
    expect(log.lines).toContainEqual({
      level: 'warn',
      message: expect.stringContaining(`could not remove ${s2!.path}`),
    });

    await backup.kill();
    const after = pruneGroup(ctx.store, group, { keepLast: 1 });
    expect(after.map((o) => o.outcome)).toEqual(['kept', 'removed']);
    expect(remaining(ctx.store, group)).toEqual([s4!.path]);
  });

  it('deleteGroup removes every unprotected snapshot, and the group once nothing is left', () => {
    const group = { type: 'host', id: 'doomed' } as const;
    const [s1, s2, s3] = snapshots(ctx.store, group, 3);
    ctx.store.setProtected(s2!, true);
    ctx.store.writeGroupNotes(group, 'group notes');

    expect(deleteGroup(ctx.store, group)).toEqual({ removed: 2, kept: 1 });
    expect(remaining(ctx.store, group)).toEqual([s2!.path]);
    expect(existsSync(ctx.store.snapshotDir(s1!))).toBe(false);
    expect(existsSync(ctx.store.snapshotDir(s3!))).toBe(false);
    expect(ctx.store.listGroups().map((g) => g.path)).toContain('host/doomed');
    expect(ctx.store.readGroupNotes(group)).toBe('group notes');

    ctx.store.setProtected(s2!, false);
    expect(deleteGroup(ctx.store, group)).toEqual({ removed: 1, kept: 0 });
    expect(existsSync(ctx.store.groupDir(group))).toBe(false);
    expect(ctx.store.listGroups().map((g) => g.path)).not.toContain('host/doomed');
  });

  it('forgetting the last snapshot removes the group directory (owner and notes too); earlier ones leave it', () => {
    const group = { type: 'host', id: 'last-one' } as const;
    const [s1, s2] = snapshots(ctx.store, group, 2);
    ctx.store.writeGroupNotes(group, 'notes');
    forgetSnapshot(ctx.store, s1!);
    expect(existsSync(ctx.store.groupDir(group))).toBe(true);
    forgetSnapshot(ctx.store, s2!);
    expect(existsSync(ctx.store.groupDir(group))).toBe(false);
    expect(ctx.store.listGroups().map((g) => g.path)).not.toContain('host/last-one');
    // The group comes back with the next backup.
    const s3 = snapshotAt(ctx.store, group);
    expect(remaining(ctx.store, group)).toEqual([s3.path]);
  });

  it('notes and protection round trip; notes survive a verify, which keeps every other manifest field', async () => {
    const src = scratch('notes');
    put(src, 'a.bin', pseudoRandomBytes(400 * 1024, 'prune-notes'));
    put(src, 'b.txt', 'notes test\n');
    const r = await backupFolder(ctx.store, src, { id: 'notes' });
    const original = ctx.store.readManifest(r.snapshot);
    expect(original.unprotected.notes).toBeUndefined();

    const notes = 'before the upgrade ✓\nsecond line';
    ctx.store.setSnapshotNotes(r.snapshot, notes);
    expect(ctx.store.readManifest(r.snapshot).unprotected.notes).toBe(notes);

    const result = await verify(ctx.store, { snapshot: r.snapshot });
    expect(result.ok).toBe(true);
    const after = ctx.store.readManifest(r.snapshot);
    expect(after.unprotected.notes).toBe(notes);
    expect(after.unprotected.verify_state?.state).toBe('ok');
    const { verify_state: _v, notes: _n, ...otherUnprotected } = after.unprotected;
    const { notes: _o, ...originalUnprotected } = original.unprotected;
    expect(otherUnprotected).toEqual(originalUnprotected);
    expect(after.unprotected.chunk_upload_stats).toBeDefined();
    expect({ ...after, unprotected: {} }).toEqual({ ...original, unprotected: {} });

    // And the other way round: new notes keep the verify state.
    ctx.store.setSnapshotNotes(r.snapshot, '');
    expect(ctx.store.readManifest(r.snapshot).unprotected).toMatchObject({
      notes: '',
      verify_state: after.unprotected.verify_state,
    });

    expect(ctx.store.isProtected(r.snapshot)).toBe(false);
    ctx.store.setProtected(r.snapshot, true);
    expect(ctx.store.isProtected(r.snapshot)).toBe(true);
    expect(ctx.store.snapshotInfo(r.snapshot).protected).toBe(true);
    ctx.store.setProtected(r.snapshot, true);
    expect(ctx.store.isProtected(r.snapshot)).toBe(true);
    ctx.store.setProtected(r.snapshot, false);
    ctx.store.setProtected(r.snapshot, false);
    expect(ctx.store.snapshotInfo(r.snapshot).protected).toBe(false);
    // Protection is a marker file, not part of any archive: verify still passes, and files are unchanged.
    expect(ctx.store.snapshotInfo(r.snapshot).files).toEqual(
      ctx.store
        .readManifest(r.snapshot)
        .files.map((f) => f.filename)
        .sort(),
    );

    const gone = { ...r.snapshot, time: r.snapshot.time + 1000 };
    await expectCode(() => ctx.store.setSnapshotNotes(gone, 'x'), 'NOT_FOUND');
    await expectCode(() => ctx.store.setProtected(gone, true), 'NOT_FOUND');
  });
});
