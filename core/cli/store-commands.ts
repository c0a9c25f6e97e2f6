import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import { STORE_COMMAND_OPTIONS } from './command-options.js';
import { UsageError } from './usage-error.js';
import {
  groupPath,
  parseGroupPath,
  parseSnapshotPath,
  snapshotPath,
  type BackupGroupRef,
  type SnapshotRef,
} from '../backup/backup-names.js';
import { Datastore } from '../datastore/datastore.js';
import { CairnError } from '../errors.js';
import type { GcResult } from '../gc/garbage-collection.js';
import { GC_STATUS_FILE, hasGcStatusFile, readGcStatus } from '../gc/gc-status.js';
import { exclusiveLockHolder } from '../locks/process-lock.js';
import { isKeepCount, KEEP_RULES, type KeepOptions } from '../../contract/keep-rules.js';
import type { VerifyResult, VerifyTarget } from '../verify/verify.js';
import { formatAgo, formatBytes, formatDuration, plural } from '../../contract/format.js';
import { table } from './format.js';
import { openStore } from './open-store.js';
import type { TtyProgress } from './tty-progress.js';

/**
 * The store maintenance commands: gc, prune, forget, delete-group, protect, unprotect, notes, verify, status.
 * Each opens the store, runs one core job and prints its result (a report, or the result object with --json).
 * A command's job module is loaded when it runs, so the other commands do not pay for loading it.
 */

export { UsageError } from './usage-error.js';
export { STORE_COMMAND_OPTIONS };

type OptionValues<T extends ParseArgsConfig['options']> = {
  [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string;
};

export type StoreCommandValues = OptionValues<typeof STORE_COMMAND_OPTIONS>;

/** What a command gets from the CLI around it. */
export interface CommandContext {
  values: StoreCommandValues & { json?: boolean; keyfile?: string; 'passphrase-fd'?: string };
  signal: AbortSignal;
  progress: TtyProgress;
  /** The result: JSON with --json, otherwise the human-readable text. */
  print(json: unknown, human: string): void;
  /** A warning while a job runs: on stderr (not with --json: there it is part of the result). */
  warn(message: string): void;
}

type Command = (args: string[], ctx: CommandContext) => Promise<number>;

export function need(positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  // An empty argument (an unset shell variable: cairn init "$STORE") would mean the current folder.
  if (v === '') throw new UsageError(`${what} is empty`);
  return v;
}

/** A snapshot path, or a group path meaning the group's newest finished snapshot. */
export function snapshotArg(store: Datastore, text: string): SnapshotRef {
  if (text.split('/').length === 2) {
    const group = parseGroupPath(text);
    const latest = store.latestSnapshot(group);
    if (!latest) throw new CairnError('NOT_FOUND', `group ${text} has no finished snapshot`);
    return latest;
  }
  return parseSnapshotPath(text);
}

export function existingGroup(store: Datastore, text: string): BackupGroupRef {
  const group = parseGroupPath(text);
  if (!existsSync(store.groupDir(group)))
    throw new CairnError('NOT_FOUND', `group ${text} does not exist in ${store.root}`);
  return group;
}

/** ISO time to the second, as snapshot times are written. */
function isoSeconds(iso: string): string {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 19)}Z` : iso;
}

function indent(rows: string[][], prefix = '  '): string {
  return table(rows)
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

// ---- gc ----

const gc: Command = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const { collectGarbage } = await import('../gc/garbage-collection.js');
  const result = await collectGarbage(store, {
    signal: ctx.signal,
    log: { info: () => {}, warn: ctx.warn },
    onProgress: (p) =>
      ctx.progress.update(
        p.phase === 'mark'
          ? { done: p.indexFilesDone, total: p.indexFilesTotal, label: `mark: index files, ${p.chunksMarked} chunks` }
          : {
              done: p.prefixesDone,
              total: p.prefixesTotal,
              label: `sweep: dirs, ${formatBytes(p.removedBytes)} freed (${p.removedChunks} chunks)`,
            },
        'count',
      ),
  });
  ctx.progress.done();
  ctx.print(result, gcReport(store.root, result));
  return 0;
};

function gcReport(root: string, r: GcResult): string {
  const rows = [
    ['removed', `${plural(r.removedChunks, 'chunk')} (${formatBytes(r.removedBytes)} freed)`],
    [
      'pending',
      `${plural(r.pendingChunks, 'chunk')} (${formatBytes(r.pendingBytes)})${r.pendingChunks > 0 ? ': unused, too recent to remove in this run' : ''}`,
    ],
    ['in use', `${plural(r.diskChunks, 'chunk')} (${formatBytes(r.diskBytes)})`],
    ['index data', `${formatBytes(r.indexDataBytes)} in ${plural(r.indexFileCount, 'index file')}`],
    ['dedup factor', `${r.dedupFactor.toFixed(2)}x`],
  ];
  if (r.removedBad > 0 || r.stillBad > 0)
    rows.push(['bad chunks', `${r.removedBad} removed, ${r.stillBad} kept (still recent)`]);
  if (r.removedTmp > 0) rows.push(['leftovers', `${r.removedTmp} removed (files of interrupted writes and forgets)`]);
  if (r.missingChunks > 0)
    rows.push(['missing', `${plural(r.missingChunks, 'chunk')}: run cairn verify to see which snapshots they affect`]);
  if (r.warnings.length > 0) rows.push(['warnings', `${r.warnings.length} (printed above)`]);
  return `Garbage collection of ${root} done in ${formatDuration(r.durationMs / 1000)}\n${indent(rows)}`;
}

// ---- prune ----

export function keepOptions(values: StoreCommandValues): KeepOptions {
  const keep: KeepOptions = {};
  for (const { flag, option } of KEEP_RULES) {
    const text = values[flag];
    if (text === undefined) continue;
    const n = Number(text);
    if (!/^[0-9]+$/.test(text) || !isKeepCount(n)) {
      throw new UsageError(`invalid --${flag} ${JSON.stringify(text)}: a whole number of at least 1`);
    }
    keep[option] = n;
  }
  if (Object.keys(keep).length === 0)
    throw new UsageError('prune needs at least one --keep-… option, e.g. --keep-last 3');
  return keep;
}

const prune: Command = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const text = need(args, 1, '<group>');
  const keep = keepOptions(ctx.values);
  const group = existingGroup(store, text);
  const dryRun = ctx.values['dry-run'] === true;
  const { pruneGroup } = await import('../prune/prune.js');
  const outcomes = pruneGroup(store, group, keep, { dryRun, log: { info: () => {}, warn: () => {} } });
  const count = (o: string): number => outcomes.filter((d) => d.outcome === o).length;
  const removed = count(dryRun ? 'would-remove' : 'removed');
  const failed = outcomes.filter((d) => d.outcome === 'failed');
  const action = { kept: 'keep', removed: 'remove', 'would-remove': 'would remove', failed: 'FAILED' } as const;
  const rows = outcomes.map((d) => [
    action[d.outcome],
    d.snapshot.path,
    d.outcome === 'failed' ? `${d.reason}; could not remove it: ${d.error}` : d.reason,
  ]);
  const summary = dryRun
    ? `Dry run: would remove ${removed} of ${plural(outcomes.length, 'snapshot')} of ${text}, keep ${count('kept')}; nothing was removed.`
    : `Removed ${removed} of ${plural(outcomes.length, 'snapshot')} of ${text}, kept ${count('kept')}` +
      `${failed.length > 0 ? `, ${failed.length} could not be removed` : ''}.` +
      `${removed > 0 ? " Run 'cairn gc' to free the space of their chunks." : ''}`;
  ctx.print(
    { group: groupPath(group), dryRun, kept: count('kept'), removed, failed: failed.length, snapshots: outcomes },
    outcomes.length === 0 ? `No snapshots in ${text}.` : `${table(rows)}\n${summary}`,
  );
  if (failed.length > 0)
    throw new Error(
      `could not remove ${failed.length} of ${plural(removed + failed.length, 'snapshot')} of ${text} (see above)`,
    );
  return 0;
};

// ---- forget, delete-group ----

const forget: Command = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const text = need(args, 1, '<snapshot>');
  if (text.split('/').length === 2) {
    throw new CairnError(
      'INVALID_ARGUMENT',
      `forget needs a snapshot (type/id/time), not the group ${text}; cairn delete-group removes a whole group`,
    );
  }
  const ref = parseSnapshotPath(text);
  const path = snapshotPath(ref);
  if (ctx.values['dry-run']) {
    const info = store.snapshotInfo(ref);
    if (info.protected) throw new CairnError('PROTECTED', `snapshot ${path} is protected; unprotect it first`);
    ctx.print(
      { snapshot: path, forgotten: false, dryRun: true },
      `Dry run: would forget ${path}; nothing was removed.`,
    );
    return 0;
  }
  const { forgetSnapshot } = await import('../prune/forget.js');
  forgetSnapshot(store, ref);
  ctx.print(
    { snapshot: path, forgotten: true },
    `Forgot ${path}. Run 'cairn gc' to free the space of chunks no other snapshot uses.`,
  );
  return 0;
};

const deleteGroupCommand: Command = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const text = need(args, 1, '<group>');
  const group = existingGroup(store, text);
  if (ctx.values['dry-run']) {
    const snapshots = store.listSnapshots(group);
    const kept = snapshots.filter((s) => s.protected).length;
    const rows = snapshots.map((s) => [s.protected ? 'keep' : 'would remove', s.path, s.protected ? 'protected' : '']);
    ctx.print(
      {
        group: groupPath(group),
        dryRun: true,
        removed: snapshots.length - kept,
        kept,
        snapshots: snapshots.map((s) => s.path),
      },
      `${table(rows)}\nDry run: would remove ${plural(snapshots.length - kept, 'snapshot')} of ${text}${kept > 0 ? `, keep ${kept} protected` : ''}; nothing was removed.`,
    );
    return 0;
  }
  const { deleteGroup } = await import('../prune/forget.js');
  const { removed, kept } = deleteGroup(store, group);
  ctx.print(
    { group: groupPath(group), removed, kept },
    kept === 0
      ? `Deleted group ${text} (${plural(removed, 'snapshot')} removed). Run 'cairn gc' to free the space of its chunks.`
      : `Removed ${plural(removed, 'snapshot')} of ${text}; kept ${kept} protected (unprotect ${kept === 1 ? 'it' : 'them'} to delete the group).`,
  );
  return 0;
};

// ---- protect, unprotect, notes ----

function protection(value: boolean): Command {
  return async (args, ctx) => {
    const store = openStore(need(args, 0, '<store>'));
    const ref = snapshotArg(store, need(args, 1, '<snapshot>'));
    store.setProtected(ref, value);
    const path = snapshotPath(ref);
    ctx.print(
      { snapshot: path, protected: value },
      value
        ? `Protected ${path}: prune and forget leave it alone.`
        : `Unprotected ${path}: prune and forget may remove it.`,
    );
    return 0;
  };
}

const notes: Command = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const ref = snapshotArg(store, need(args, 1, '<snapshot>'));
  const path = snapshotPath(ref);
  const text = ctx.values.set;
  if (text !== undefined) {
    store.setSnapshotNotes(ref, text);
    ctx.print(
      { snapshot: path, notes: text },
      text === '' ? `Cleared the notes of ${path}.` : `Set the notes of ${path}.`,
    );
    return 0;
  }
  const current = store.readManifest(ref).unprotected.notes ?? '';
  ctx.print({ snapshot: path, notes: current }, current === '' ? `${path} has no notes.` : current.replace(/\n$/, ''));
  return 0;
};

// ---- verify ----

function verifyTarget(store: Datastore, text: string | undefined): VerifyTarget {
  if (text === undefined) return { store: true };
  if (text.split('/').length === 2) return { group: existingGroup(store, text) };
  const ref = parseSnapshotPath(text);
  if (!store.snapshotInfo(ref).finished)
    throw new CairnError('INVALID_ARGUMENT', `snapshot ${text} is unfinished: there is nothing to verify yet`);
  return { snapshot: ref };
}

const verifyCommand: Command = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const target = verifyTarget(store, args[1]);
  const { verify } = await import('../verify/verify.js');
  const { openKeyFile, passphrasesFrom } = await import('./cli-keys.js');
  const keyfile = ctx.values.keyfile;
  if (keyfile === undefined && ctx.values['passphrase-fd'] !== undefined)
    throw new UsageError('--passphrase-fd goes with --keyfile');
  const keys = keyfile === undefined ? [] : [(await openKeyFile(resolve(keyfile), passphrasesFrom(ctx.values))).crypt];
  const result = await verify(store, target, {
    keys,
    signal: ctx.signal,
    onProgress: (p) =>
      ctx.progress.bytes(
        p,
        `${p.snapshotsDone}/${p.snapshotsTotal} snapshots${p.corruptChunks > 0 ? `, ${plural(p.corruptChunks, 'bad chunk')}` : ''}` +
          `${p.currentSnapshot ? `  ${p.currentSnapshot}` : ''}`,
      ),
  });
  ctx.progress.done();
  const failed = result.snapshots.filter((s) => s.state === 'failed').length;
  ctx.print(result, verifyReport(result));
  if (failed > 0)
    throw new Error(
      `verification failed: ${failed} of ${plural(result.snapshots.length, 'snapshot')} ${failed === 1 ? 'has' : 'have'} problems`,
    );
  return 0;
};

function verifyReport(r: VerifyResult): string {
  if (r.snapshots.length === 0) return 'Nothing to verify: no finished snapshots.';
  const lines: string[] = [];
  for (const s of r.snapshots) {
    lines.push(
      `${s.state === 'failed' ? 'FAILED ' : s.state === 'skipped' ? 'skipped' : 'ok     '} ${s.snapshot}${s.note ? `: ${s.note}` : ''}`,
    );
    for (const p of s.problems) {
      lines.push(`  ${p.archive}: ${p.message}`);
      if (p.affects && p.affects.length > 0) lines.push(`    affected: ${p.affects.join(', ')}`);
    }
  }
  const count = (state: string): number => r.snapshots.filter((s) => s.state === state).length;
  const failed = count('failed');
  const skipped = count('skipped');
  lines.push(
    `${failed > 0 ? 'FAILED: ' : 'OK: '}verified ${plural(r.snapshots.length, 'snapshot')} (${formatBytes(r.bytesDone)}, ` +
      `${plural(r.chunksChecked, 'chunk')}) in ${formatDuration(r.elapsedMs / 1000)}: ${count('ok')} ok, ${failed} failed` +
      `${skipped > 0 ? `, ${skipped} skipped` : ''}${r.corruptChunks > 0 ? `; ${plural(r.corruptChunks, 'damaged chunk')}` : ''}` +
      `${r.missingChunks > 0 ? `; ${plural(r.missingChunks, 'chunk')} missing` : ''}`,
  );
  return lines.join('\n');
}

// ---- status ----

const status: Command = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const result = storeStatus(store);
  ctx.print(
    result,
    `Datastore ${store.root} (chunk size ${formatBytes(store.config.chunkSize)}, compression ${store.config.compression}, ` +
      `sync ${store.config.syncLevel})\n${indent(statusRows(result, hasGcStatusFile(store.root)))}`,
  );
  return 0;
};

type StoreStatus = ReturnType<typeof storeStatus>;

/** What `cairn status` reports (its JSON): the chunks, the backups, the last and a running GC, the writers. */
function storeStatus(store: Datastore) {
  const chunks = store.chunks.stats();
  const groups = store.listGroups();
  const snapshots = groups.flatMap((g) => store.listSnapshots(g));
  const lastGc = readGcStatus(store.root) ?? null;
  const gcHolder = exclusiveLockHolder(store.root, 'gc') ?? null;
  return {
    root: store.root,
    config: store.config,
    chunks,
    groupCount: groups.length,
    snapshotCount: snapshots.length,
    protectedSnapshots: snapshots.filter((s) => s.protected).length,
    unfinishedSnapshots: snapshots.filter((s) => !s.finished).length,
    groups,
    dedupFactor: lastGc?.dedupFactor ?? null,
    gc: { running: gcHolder !== null, holder: gcHolder, last: lastGc },
    writers: store.liveWriters(),
  };
}

/** The status as label and text rows; `gcFileExists`: a GC status file is there even if it did not parse. */
function statusRows(status: StoreStatus, gcFileExists: boolean): string[][] {
  const { chunks, gc, writers } = status;
  const extra = [
    chunks.bad > 0 ? `${chunks.bad} bad` : '',
    chunks.tmp > 0 ? `${chunks.tmp} temporary` : '',
    chunks.parked > 0 ? `${chunks.parked} parked by an interrupted GC` : '',
  ].filter(Boolean);
  const snapshotExtra = [
    status.protectedSnapshots > 0 ? `${status.protectedSnapshots} protected` : '',
    status.unfinishedSnapshots > 0 ? `${status.unfinishedSnapshots} unfinished` : '',
  ].filter(Boolean);
  const rows: string[][] = [
    ['chunks', `${chunks.chunks} (${formatBytes(chunks.bytes)})${extra.length > 0 ? `; ${extra.join(', ')}` : ''}`],
    [
      'backups',
      `${plural(status.groupCount, 'group')}, ${plural(status.snapshotCount, 'snapshot')}${snapshotExtra.length > 0 ? ` (${snapshotExtra.join(', ')})` : ''}`,
    ],
    ...gcRows(gc.last, gcFileExists),
    [
      'GC',
      gc.holder
        ? `running: pid ${gc.holder.pid} on ${gc.holder.host}, since ${isoSeconds(gc.holder.startedAt)}`
        : 'not running',
    ],
  ];
  if (writers.length === 0) rows.push(['writers', 'none']);
  writers.forEach((w, i) =>
    rows.push([i === 0 ? 'writers' : '', `${w.purpose}: pid ${w.pid} on ${w.host}, since ${isoSeconds(w.startedAt)}`]),
  );
  return rows;
}

function gcRows(lastGc: StoreStatus['gc']['last'], gcFileExists: boolean): string[][] {
  if (!lastGc) {
    return [
      [
        'last GC',
        gcFileExists ? `unknown (${GC_STATUS_FILE} is not one Cairn wrote, e.g. PBS's, or is damaged)` : 'never',
      ],
    ];
  }
  return [
    [
      'last GC',
      `${isoSeconds(lastGc.startedAt)} (${formatAgo(Date.now() - Date.parse(lastGc.startedAt))}), took ${formatDuration(lastGc.durationMs / 1000)}: ` +
        `removed ${plural(lastGc.removedChunks, 'chunk')} (${formatBytes(lastGc.removedBytes)}), ${lastGc.pendingChunks} pending (${formatBytes(lastGc.pendingBytes)})`,
    ],
    [
      'dedup factor',
      `${lastGc.dedupFactor.toFixed(2)}x (${formatBytes(lastGc.indexDataBytes)} of backup data in ${formatBytes(lastGc.diskBytes)} of chunks, at the last GC)`,
    ],
    // Said here too, not only in --json: their snapshots cannot be restored, and GC kept no chunk for them.
    ...(lastGc.unreadableIndexes > 0
      ? [
          [
            'damaged',
            `${plural(lastGc.unreadableIndexes, 'index file')} could not be read at the last GC (its warnings name ` +
              'them): their snapshots cannot be restored; forget them, or run cairn verify',
          ],
        ]
      : []),
  ];
}

/** Command name → handler. */
export const STORE_COMMANDS: ReadonlyMap<string, Command> = new Map([
  ['gc', gc],
  ['prune', prune],
  ['forget', forget],
  ['delete-group', deleteGroupCommand],
  ['protect', protection(true)],
  ['unprotect', protection(false)],
  ['notes', notes],
  ['verify', verifyCommand],
  ['status', status],
]);
