import { parseArgs } from 'node:util';
import { EntryKind } from '../archive/archive-format.js';
import { entryInfo } from '../archive/entry-info.js';
import { backupFolder } from '../archive/folder-backup.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import { assertBackupType, formatBackupTime, type SnapshotRef } from '../backup/backup-names.js';
import type { SnapshotSummary } from '../../contract/model.js';
import { summarizeManifest } from '../backup/manifest-summary.js';
import type { SyncLevel } from '../chunk-store/chunk-store.js';
import { isValidChunkSize } from '../chunker/chunker-params.js';
import { Datastore, type SnapshotInfo } from '../datastore/datastore.js';
import type { Compression } from '../datastore/datastore-config.js';
import { describeSource } from '../datastore/group-source.js';
import { CairnError } from '../errors.js';
import { formatBytes, formatDuration, formatRate, plural } from '../../contract/format.js';
import { parseSize, table } from './format.js';
import { openStore } from './open-store.js';
import { ARCHIVE_COMMAND_OPTIONS } from './command-options.js';
import { existingGroup, need, snapshotArg, type CommandContext } from './store-commands.js';
import { backupEncryption, readingKey, type KeyValues } from './cli-keys.js';
import { UsageError } from './usage-error.js';
import { leftOutExit } from './left-out-exit.js';
import { keptExisting, replacedExisting } from '../../contract/kept-existing.js';

/**
 * The commands that make, list and read back backups (init, backup, backup-image, restore, restore-image, ls, cat,
 * diff, excludes, groups, snapshots), one function each; cairn.ts parses the arguments and picks one. Each
 * command's heavy module is loaded when it runs: start-up time counts in every command.
 */
export { ARCHIVE_COMMAND_OPTIONS };

type ArchiveValues = ReturnType<
  typeof parseArgs<{ options: typeof ARCHIVE_COMMAND_OPTIONS; allowPositionals: true }>
>['values'];

export interface ArchiveCommandContext extends Omit<CommandContext, 'values'> {
  values: ArchiveValues & { json?: boolean; 'dry-run'?: boolean };
}

async function initCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const { values, signal, progress } = ctx;
  const root = need(args, 0, '<store>');
  const store = await Datastore.create(root, {
    chunkSize: chunkSizeOption(values),
    compression: values.compression as Compression | undefined,
    syncLevel: values.sync as SyncLevel | undefined,
    signal,
    onProgress: (done, total) => progress.update({ done, total, label: 'creating chunk directories' }, 'count'),
  });
  progress.done();
  ctx.print(
    { root: store.root, ...store.config },
    `Created datastore ${store.root} (chunk size ${formatBytes(store.config.chunkSize)}, ` +
      `compression ${store.config.compression}, sync ${store.config.syncLevel})`,
  );
  return 0;
}

async function backupImageCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const { values, signal, progress } = ctx;
  const store = openStore(need(args, 0, '<store>'));
  const file = need(args, 1, '<file>');
  const { backupImage } = await import('../image/image-backup.js');
  const encryption = await backupEncryption(values);
  const result = await backupImage(store, file, {
    ...encryption,
    id: values.id,
    type: values.type === undefined ? undefined : assertBackupType(values.type),
    archiveName: values.archive,
    chunkSize: chunkSizeOption(values),
    allowOtherSource: values['allow-other-source'],
    signal,
    log: { info: () => {}, warn: ctx.warn },
    onProgress: (p) => progress.bytes(p),
  });
  progress.done();
  ctx.print(
    result,
    `Backed up ${file} to ${result.path}/${result.archive}: ${formatBytes(result.bytesDone)} in ` +
      `${formatDuration(result.elapsedMs / 1000)} (${formatRate(result.bytesDone / Math.max(result.elapsedMs / 1000, 1e-3))}), ` +
      `${result.newChunks} of ${result.chunks} chunks new (${formatBytes(result.newBytes)} written), ${formatBytes(result.dedupBytes)} deduplicated`,
  );
  return 0;
}

async function restoreImageCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const { values, signal, progress } = ctx;
  const store = openStore(need(args, 0, '<store>'));
  const ref = snapshotArg(store, need(args, 1, '<snapshot>'));
  if (values.to === undefined) throw new UsageError('missing --to <file>');
  const { restoreImage } = await import('../image/image-restore.js');
  const result = await restoreImage(store, ref, values.to, {
    crypt: await readingKey(store, [ref], values),
    archiveName: values.archive,
    overwrite: values.overwrite,
    keepDamaged: values['keep-damaged'],
    signal,
    onProgress: (p) => progress.bytes(p),
  });
  progress.done();
  if (result.damaged.length === 0) {
    ctx.print(result, `Restored ${result.archive} (${formatBytes(result.size)}) to ${result.target}`);
    return 0;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else for (const d of result.damaged) process.stderr.write(`damaged: bytes ${d.start}-${d.end - 1}: ${d.message}\n`);
  throw new CairnError(
    'CORRUPT',
    `${plural(result.damaged.length, 'range')} of ${result.archive} could not be read (listed above); ` +
      (result.written
        ? `the rest is in ${result.written}, the damaged ranges as zeros`
        : `${result.target} was not written (--keep-damaged keeps the rest as ${result.target}.damaged)`),
  );
}

async function groupsCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const store = openStore(need(args, 0, '<store>'));
  const groups = store.listGroups();
  const rows = [
    ['GROUP', 'SNAPSHOTS', 'LAST BACKUP', 'OWNER', 'SOURCE'],
    ...groups.map((g) => [
      g.path,
      String(g.snapshotCount),
      g.lastBackup ? when(g.lastBackup) : '-',
      g.owner ?? '-',
      g.source ? describeSource(g.source) : '-',
    ]),
  ];
  ctx.print(groups, groups.length === 0 ? 'No backup groups yet.' : table(rows));
  return 0;
}

async function snapshotsCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const store = openStore(need(args, 0, '<store>'));
  // A group named that is not there is an error (a typo), as for ls, prune and verify: not an empty list.
  const groups = args[1] !== undefined ? [existingGroup(store, args[1])] : store.listGroups();
  const snapshots = groups.flatMap((g) => store.listSnapshots(g)).map((s) => ({ ...s, ...summaryOf(store, s) }));
  const rows = [
    ['SNAPSHOT', 'STATE', 'SIZE', 'FILES', 'VERIFY', 'ARCHIVES'],
    ...snapshots.map((s) => [
      s.path,
      `${s.finished ? 'finished' : 'unfinished'}${s.protected ? ', protected' : ''}`,
      s.size === undefined ? '-' : formatBytes(s.size),
      s.fileCount === undefined ? '-' : String(s.fileCount),
      s.verifyState ?? (s.finished ? 'not verified' : '-'),
      s.files.join(' '),
    ]),
  ];
  ctx.print(snapshots, snapshots.length === 0 ? 'No snapshots.' : table(rows));
  return 0;
}

async function backupCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const { values, signal, progress } = ctx;
  need(args, 1, '<dir>');
  const store = openStore(need(args, 0, '<store>'));
  const dirs = args.slice(1);
  // Several folders have no one name to derive the group from.
  if (dirs.length > 1 && values.id === undefined)
    throw new UsageError(`backing up ${dirs.length} folders into one snapshot needs --id: they share one group`);
  const encryption = await backupEncryption(values);
  const result = await backupFolder(store, dirs.length === 1 ? dirs[0]! : dirs, {
    ...encryption,
    id: values.id,
    excludes: values.exclude,
    chunkSize: chunkSizeOption(values),
    allowOtherSource: values['allow-other-source'],
    signal,
    log: { info: () => {}, warn: ctx.warn },
    // Without a terminal to draw on, no progress is asked for: the backup then does not count the tree first.
    onProgress: progress.shown
      ? (p) =>
          progress.bytes(
            p,
            p.phase === 'scanning'
              ? `scanning: ${p.filesTotal} files`
              : `${p.filesDone}/${p.filesTotal} files  ${p.currentPath}`,
          )
      : undefined,
  });
  progress.done();
  const seconds = Math.max(result.elapsedMs / 1000, 1e-3);
  ctx.print(
    result,
    `Backed up ${plural(result.stats.files, 'file')} (${formatBytes(result.stats.bytes)})${dirs.length > 1 ? ` of ${dirs.length} folders` : ''} to ${result.path} in ${formatDuration(seconds)}` +
      `\n  read ${formatBytes(result.bytesRead)}, reused ${formatBytes(result.bytesReused)} unchanged` +
      (result.base
        ? ` from ${result.base} (${result.foldersUnchanged} of ${result.stats.directories} folders unchanged)`
        : '') +
      `\n  new data ${formatBytes(result.newBytes)} in ${result.newChunks} chunks, ${formatBytes(result.dedupBytes)} deduplicated` +
      (result.stats.skipped > 0
        ? `\n  ${plural(result.stats.skipped, 'entry', 'entries')} skipped (see warnings)`
        : '') +
      (result.excluded > 0 ? `\n  ${plural(result.excluded, 'entry', 'entries')} excluded` : ''),
  );
  return leftOutExit(result.leftOut.count, ctx);
}

/** The folder archive of a snapshot named on the command line, opened with its key if it needs one. */
async function folderArchive(store: Datastore, text: string, values: KeyValues): Promise<FolderArchiveReader> {
  const ref = snapshotArg(store, text);
  return new FolderArchiveReader(store.openSnapshot(ref, { crypt: await readingKey(store, [ref], values) }));
}

async function lsCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const store = openStore(need(args, 0, '<store>'));
  const reader = await folderArchive(store, need(args, 1, '<snapshot>'), ctx.values);
  const entries = reader.list(args[2] ?? '').map(entryInfo);
  const rows = entries.map((e) => [
    e.kind === 'directory' ? 'd' : e.kind === 'symlink' ? 'l' : e.kind === 'hardlink' ? 'h' : '-',
    e.mode,
    e.kind === 'directory' ? '' : formatBytes(e.size),
    e.mtime.slice(0, 19).replace('T', ' '),
    `${e.name}${e.kind === 'directory' ? '/' : ''}${e.target ? ` -> ${e.target}` : ''}`,
  ]);
  ctx.print(entries, rows.length === 0 ? '(empty folder)' : table(rows));
  return 0;
}

async function catCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const store = openStore(need(args, 0, '<store>'));
  const reader = await folderArchive(store, need(args, 1, '<snapshot>'), ctx.values);
  const path = need(args, 2, '<path>');
  const entry = reader.get(path);
  if (entry.kind !== EntryKind.File && entry.kind !== EntryKind.Hardlink)
    throw new CairnError('INVALID_ARGUMENT', `${path} is not a file`);
  for (const slice of reader.fileContent(entry)) {
    if (!process.stdout.write(slice)) await new Promise((r) => process.stdout.once('drain', r));
  }
  return 0;
}

async function restoreCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const { values, signal, progress } = ctx;
  if (values['in-place']) return restoreInPlaceCommand(args, ctx);
  for (const flag of ['conflict', 'overwrite-newer'] as const)
    if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --in-place`);
  const store = openStore(need(args, 0, '<store>'));
  const ref = snapshotArg(store, need(args, 1, '<snapshot>'));
  if (values.to === undefined) throw new UsageError('missing --to <dir> (or --in-place: back where it was)');
  if (values['dry-run']) return restorePreviewCommand(store, ref, args[2] ?? '', values.to, ctx);
  const { restoreFolder } = await import('../archive/folder-restore.js');
  const result = await restoreFolder(store, ref, values.to, {
    crypt: await readingKey(store, [ref], values),
    path: args[2],
    overwrite: values.overwrite,
    keepDamaged: values['keep-damaged'],
    signal,
    log: { info: () => {}, warn: ctx.warn },
    onProgress: (p) => progress.bytes(p, `${p.filesDone}/${p.filesTotal} files  ${p.currentPath}`),
  });
  progress.done();
  ctx.print(
    result,
    `Restored ${plural(result.filesRestored, 'file')} (${formatBytes(result.bytesRestored)}) to ${result.target}` +
      replacedExisting(result.replaced) +
      keptExisting(
        result.conflicts,
        result.keptSame,
        (differ) => ` (--overwrite replaces ${differ === 1 ? 'it' : 'them'})`,
      ),
  );
  if (result.failedCount > 0) {
    throw new CairnError(
      'IO',
      `${result.failedCount} ${result.failedCount === 1 ? 'entry' : 'entries'} of the snapshot could not be restored ` +
        `(listed above as 'not restored'); everything else was restored`,
    );
  }
  return 0;
}

/** `restore --to DIR --dry-run`: what the restore would meet in DIR; nothing is written. */
async function restorePreviewCommand(
  store: Datastore,
  ref: SnapshotRef,
  path: string,
  target: string,
  ctx: ArchiveCommandContext,
): Promise<number> {
  const { FolderArchiveReader } = await import('../archive/folder-reader.js');
  const { previewRestore } = await import('../archive/restore-preview.js');
  const reader = new FolderArchiveReader(
    store.openSnapshot(ref, { crypt: await readingKey(store, [ref], ctx.values) }),
  );
  const p = await previewRestore(reader, [path], target, { signal: ctx.signal, folderContents: true });
  const listed = p.differing.map((d) => `differs  ${d}`);
  if (p.differ > p.differing.length) listed.push(`…and ${p.differ - p.differing.length} more`);
  const one = p.differ === 1;
  const fate = ctx.values.overwrite ? 'replaced' : `kept; --overwrite replaces ${one ? 'it' : 'them'}`;
  const summary =
    `Would add ${plural(p.added, 'file')}; ${p.same} there as backed up; ${p.differ} there that ` +
    `${one ? 'differs' : 'differ'} in size or date (${fate}) (dry run: nothing was written)`;
  ctx.print(p, [...listed, summary].join('\n'));
  return 0;
}

const ACTION_WORDS = {
  restore: 'restore',
  unchanged: 'unchanged',
  overwrite: 'overwrite',
  'keep-both': 'keep both',
  skip: 'skip',
  'newer-local': 'KEEP (newer here)',
} as const;

/** `restore --in-place`: the preview, then (without --dry-run) the restore to the original places. */
async function restoreInPlaceCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const { values } = ctx;
  if (values.to !== undefined) throw new UsageError('--in-place restores where it was backed up from: leave out --to');
  if (values.overwrite)
    throw new UsageError('--in-place decides per file: give --conflict overwrite instead of --overwrite');
  const conflict = values.conflict ?? 'keep-both';
  if (!['overwrite', 'keep-both', 'skip'].includes(conflict))
    throw new UsageError(`--conflict takes overwrite, keep-both or skip, not ${JSON.stringify(conflict)}`);
  const store = openStore(need(args, 0, '<store>'));
  const ref = snapshotArg(store, need(args, 1, '<snapshot>'));
  const { restoreInPlace } = await import('../archive/in-place.js');
  const result = await restoreInPlace(store, ref, {
    path: args[2],
    conflict: conflict as 'overwrite' | 'keep-both' | 'skip',
    overwriteNewer: values['overwrite-newer'],
    dryRun: values['dry-run'],
    crypt: await readingKey(store, [ref], values),
    signal: ctx.signal,
    log: { info: () => {}, warn: ctx.warn },
  });
  const shown = result.items.filter((i) => i.action !== 'unchanged');
  const rows = shown.map((i) => [
    ACTION_WORDS[i.action],
    i.restoredAs ? `${i.localPath} -> ${i.restoredAs}` : i.localPath,
  ]);
  const c = result.counts;
  const summary =
    `${result.dryRun ? 'Would restore' : 'Restored'} ${c.restore} missing, ${result.dryRun ? 'would replace' : 'replaced'} ${c.overwrite}, ` +
    `${c['keep-both']} kept beside, ${c.skip} skipped, ${c.unchanged} unchanged` +
    (c['newer-local'] > 0
      ? `; ${c['newer-local']} changed here since the backup and kept (--overwrite-newer replaces them)`
      : '') +
    '; files there that the snapshot does not hold are left alone (nothing is deleted)';
  ctx.print(
    result,
    `${rows.length > 0 ? `${table(rows)}\n` : ''}${summary}${result.dryRun ? ' (dry run: nothing was written)' : ''}`,
  );
  return 0;
}

async function diffCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const store = openStore(need(args, 0, '<store>'));
  const { diffSnapshots } = await import('../archive/snapshot-diff.js');
  const from = snapshotArg(store, need(args, 1, '<snapshot-a>'));
  const to = snapshotArg(store, need(args, 2, '<snapshot-b>'));
  const diff = diffSnapshots(store, from, to, await readingKey(store, [from, to], ctx.values));
  const sign = { added: '+', removed: '-', changed: 'M' } as const;
  const lines = diff.entries.map(
    (e) =>
      `${sign[e.change]} ${e.path}${e.kind === 'directory' ? '/' : ''}` +
      (e.change === 'changed'
        ? `  (${e.what?.join(', ')}${e.sizeBefore !== e.sizeAfter ? `: ${formatBytes(e.sizeBefore ?? 0)} -> ${formatBytes(e.sizeAfter ?? 0)}` : ''})`
        : `  ${formatBytes(e.sizeAfter ?? e.sizeBefore ?? 0)}`),
  );
  lines.push(
    `${diff.added} added, ${diff.removed} removed, ${diff.changed} changed; +${formatBytes(diff.bytesAdded)} -${formatBytes(diff.bytesRemoved)}`,
  );
  ctx.print(diff, lines.join('\n'));
  return 0;
}

async function excludesCommand(args: string[], ctx: ArchiveCommandContext): Promise<number> {
  const { values, signal } = ctx;
  const { previewExcludes } = await import('../archive/exclude-preview.js');
  const preview = await previewExcludes(need(args, 0, '<dir>'), values.exclude ?? [], { signal });
  const lines = preview.paths.map((p) => `${p.path}${p.isDirectory ? '/' : ''}`);
  lines.push(
    `${plural(preview.excluded, 'entry', 'entries')} excluded (${formatBytes(preview.excludedBytes)} of files); ${plural(preview.files, 'file')} (${formatBytes(preview.bytes)}) would be backed up`,
  );
  const { leftOut } = preview;
  if (leftOut.count > 0) {
    lines.push(`${plural(leftOut.count, 'entry', 'entries')} cannot be read and would be left out:`);
    lines.push(...leftOut.named.map((e) => `  ${e.path}: ${e.reason}`));
    if (leftOut.count > leftOut.named.length) lines.push(`  …and ${leftOut.count - leftOut.named.length} more`);
  }
  ctx.print(preview, lines.join('\n'));
  return 0;
}

export const ARCHIVE_COMMANDS: ReadonlyMap<string, (args: string[], ctx: ArchiveCommandContext) => Promise<number>> =
  new Map([
    ['init', initCommand],
    ['backup-image', backupImageCommand],
    ['restore-image', restoreImageCommand],
    ['groups', groupsCommand],
    ['snapshots', snapshotsCommand],
    ['backup', backupCommand],
    ['ls', lsCommand],
    ['cat', catCommand],
    ['restore', restoreCommand],
    ['diff', diffCommand],
    ['excludes', excludesCommand],
  ]);

function chunkSizeOption(values: ArchiveValues): number | undefined {
  if (values['chunk-size'] === undefined) return undefined;
  const size = parseSize(values['chunk-size']);
  if (size === undefined || !isValidChunkSize(size)) {
    throw new CairnError(
      'INVALID_ARGUMENT',
      `invalid --chunk-size ${values['chunk-size']}: a power of two from 64K to 4M`,
    );
  }
  return size;
}

function when(time: number): string {
  return formatBackupTime(time);
}

type ListedSummary = Omit<SnapshotSummary, 'files'> & { fileCount?: number };

/**
 * A snapshot's kind, size, file count and verify state from its manifest, for `snapshots` (its `files` stay the
 * archive names, as they were). An unreadable manifest shows no figures, and why in notes.
 */
function summaryOf(store: Datastore, s: SnapshotInfo): ListedSummary {
  if (!s.finished) return { kind: 'other' };
  try {
    const { files, ...rest } = summarizeManifest(store.readManifest(s));
    return { ...rest, fileCount: files };
  } catch (err) {
    return { kind: 'other', notes: `unreadable manifest: ${(err as Error).message}` };
  }
}
