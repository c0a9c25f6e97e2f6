#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatBackupTime, parseGroupPath, assertBackupType } from '../backup/backup-names.js';
import { EntryKind } from '../archive/archive-format.js';
import { entryInfo } from '../archive/entry-info.js';
import { backupFolder } from '../archive/folder-backup.js';
import { describeSource } from '../datastore/group-source.js';
import { summarizeManifest, type SnapshotSummary } from '../backup/manifest-summary.js';
import type { SnapshotInfo } from '../datastore/datastore.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import { isValidChunkSize } from '../chunker/chunker-params.js';
import { Datastore } from '../datastore/datastore.js';
import type { Compression } from '../datastore/datastore-config.js';
import type { SyncLevel } from '../chunk-store/chunk-store.js';
import { CairnError } from '../errors.js';
import { formatBytes, formatDuration, formatRate, parseSize, plural, table } from './format.js';
import { openStore } from './open-store.js';
import { need, snapshotArg, STORE_COMMAND_OPTIONS, STORE_COMMANDS, UsageError } from './store-commands.js';
import { TtyProgress } from './tty-progress.js';

const USAGE = `Usage: cairn <command> [options]

Commands:
  init <store> [--chunk-size 4M] [--compression zstd|none] [--sync none|file|filesystem]
                                   create a datastore in an empty or new folder
  backup-image <store> <file> [--id ID] [--type host|vm|ct] [--archive NAME] [--chunk-size 4M]
        [--allow-other-source]     back up one large file (a disk image) as <name>.img.fidx
  restore-image <store> <snapshot> --to <file> [--archive NAME] [--overwrite] [--keep-damaged]
                                   restore an image archive byte for byte (damaged ranges are named;
                                   --keep-damaged keeps the readable rest as <file>.damaged)
  backup <store> <dir> [--id ID] [--exclude PATTERN]... [--chunk-size 1M] [--allow-other-source]
                                   back up a folder (incremental: unchanged files are not read)
  ls <store> <snapshot> [path]     list a folder of a snapshot
  cat <store> <snapshot> <path>    write one file of a snapshot to stdout
  restore <store> <snapshot> [path] --to <dir> [--overwrite] [--keep-damaged]
                                   restore a snapshot, a folder of it (its contents) or one file; a file
                                   with a damaged chunk is named and left out (--keep-damaged: its readable
                                   rest is kept as <name>.damaged)
  diff <store> <snapshot-a> <snapshot-b>
                                   what was added, removed and changed between two snapshots
  excludes <dir> [--exclude PATTERN]...
                                   preview what the patterns and .cairnignore files exclude
  groups <store>                   list backup groups
  snapshots <store> [group]        list snapshots (of one group, e.g. host/docs)

Maintenance:
  status <store>                   size, backups, last garbage collection, running GC and backups
  verify <store> [group|snapshot]  check snapshots and their chunks (all by default); exit code 1 if any failed
  prune <store> <group> [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N]
        [--keep-monthly N] [--keep-yearly N] [--dry-run]
                                   remove the snapshots no keep rule selects (--dry-run: only show them)
  forget <store> <snapshot> [--dry-run]
                                   remove one snapshot (type/id/time; not a protected one)
  delete-group <store> <group> [--dry-run]
                                   remove every snapshot of a group that is not protected, then the group
  protect <store> <snapshot>       keep a snapshot from prune and forget
  unprotect <store> <snapshot>     allow prune and forget to remove it again
  notes <store> <snapshot> [--set TEXT]
                                   show or set (--set '' clears) a snapshot's notes
  gc <store>                       garbage collection: delete chunks that no snapshot uses any more

Options:
  --json      machine-readable output on stdout
  --help      this text
Every command takes --json and --help and only the options shown with it; any other is refused (exit code 2).

A snapshot is written type/id/time, e.g. host/docs/2026-11-24T10:00:00Z; a group (host/docs) means its newest
finished snapshot (forget needs the full path; verify and prune take the whole group). Forget, prune and
delete-group only remove snapshots: gc frees the space of chunks no snapshot uses.
A group records the folder (or image) it backs up: a backup of another one into it is refused unless
--allow-other-source says it is the same data, moved.
Exclude patterns use .gitignore syntax, relative to the backed-up folder.`;

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  id: { type: 'string' },
  type: { type: 'string' },
  archive: { type: 'string' },
  'chunk-size': { type: 'string' },
  compression: { type: 'string' },
  sync: { type: 'string' },
  to: { type: 'string' },
  overwrite: { type: 'boolean' },
  'allow-other-source': { type: 'boolean' },
  'keep-damaged': { type: 'boolean' },
  exclude: { type: 'string', multiple: true },
  ...STORE_COMMAND_OPTIONS,
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];
type OptionName = keyof typeof OPTIONS;

/** The options each command takes, besides --json and --help: any other is a usage error, and nothing is done. */
const COMMAND_OPTIONS: Record<string, readonly OptionName[]> = {
  init: ['chunk-size', 'compression', 'sync'],
  'backup-image': ['id', 'type', 'archive', 'chunk-size', 'allow-other-source'],
  'restore-image': ['to', 'archive', 'overwrite', 'keep-damaged'],
  backup: ['id', 'exclude', 'chunk-size', 'allow-other-source'],
  ls: [], cat: [], diff: [], groups: [], snapshots: [], status: [], verify: [], gc: [], protect: [], unprotect: [],
  restore: ['to', 'overwrite', 'keep-damaged'],
  excludes: ['exclude'],
  prune: ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly', 'dry-run'],
  forget: ['dry-run'],
  'delete-group': ['dry-run'],
  notes: ['set'],
};

/** Refuses an unknown command, and an option the command does not take (it would be ignored: a --dry-run that deletes). */
function checkOptions(command: string, values: Values): void {
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || name === 'json' || name === 'help' || allowed.includes(name as OptionName)) continue;
    throw new UsageError(`${command} takes no --${name}${allowed.length > 0 ? ` (it takes ${allowed.map((o) => `--${o}`).join(', ')})` : ''}`);
  }
}

/** The job's progress line, cleared before an error is printed. */
let progress = new TtyProgress(process.stderr, false);

function chunkSizeOption(values: Values): number | undefined {
  if (values['chunk-size'] === undefined) return undefined;
  const size = parseSize(values['chunk-size']);
  if (size === undefined || !isValidChunkSize(size)) {
    throw new CairnError('INVALID_ARGUMENT', `invalid --chunk-size ${values['chunk-size']}: a power of two from 64K to 4M`);
  }
  return size;
}

function print(values: Values, json: unknown, human: string): void {
  process.stdout.write(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`);
}

function when(time: number): string {
  return formatBackupTime(time);
}

// Each command's module is loaded when that command runs: start-up time counts in every command, and in an
// unchanged backup module loading is about a tenth of the time.
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  checkOptions(command, values);
  progress = new TtyProgress(process.stderr, values.json ? false : undefined);
  // Ctrl-C cancels the job cleanly (the partial snapshot is removed) instead of killing it mid-write.
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  switch (command) {
    case 'init': {
      const root = need(args, 0, '<store>');
      const store = await Datastore.create(root, {
        chunkSize: chunkSizeOption(values),
        compression: values.compression as Compression | undefined,
        syncLevel: values.sync as SyncLevel | undefined,
        signal: abort.signal,
        onProgress: (done, total) => progress.update({ done, total, label: 'creating chunk directories' }, 'count'),
      });
      progress.done();
      print(values, { root: store.root, ...store.config }, `Created datastore ${store.root} (chunk size ${formatBytes(store.config.chunkSize)}, `
        + `compression ${store.config.compression}, sync ${store.config.syncLevel})`);
      return 0;
    }
    case 'backup-image': {
      const store = openStore(need(args, 0, '<store>'));
      const file = need(args, 1, '<file>');
      const { backupImage } = await import('../image/image-backup.js');
      const result = await backupImage(store, file, {
        id: values.id, type: values.type === undefined ? undefined : assertBackupType(values.type), archiveName: values.archive,
        chunkSize: chunkSizeOption(values), allowOtherSource: values['allow-other-source'], signal: abort.signal,
        log: { info: () => {}, warn: (m) => { progress.done(); if (!values.json) process.stderr.write(`warning: ${m}\n`); } },
        onProgress: (p) => progress.update({ done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds }),
      });
      progress.done();
      print(values, result, `Backed up ${file} to ${result.path}/${result.archive}: ${formatBytes(result.bytesDone)} in `
        + `${formatDuration(result.elapsedMs / 1000)} (${formatRate(result.bytesDone / Math.max(result.elapsedMs / 1000, 1e-3))}), `
        + `${result.newChunks} of ${result.chunks} chunks new (${formatBytes(result.newBytes)} written), ${formatBytes(result.dedupBytes)} deduplicated`);
      return 0;
    }
    case 'restore-image': {
      const store = openStore(need(args, 0, '<store>'));
      const ref = snapshotArg(store, need(args, 1, '<snapshot>'));
      if (values.to === undefined) throw new UsageError('missing --to <file>');
      const { restoreImage } = await import('../image/image-restore.js');
      const result = await restoreImage(store, ref, values.to, {
        archiveName: values.archive, overwrite: values.overwrite, keepDamaged: values['keep-damaged'], signal: abort.signal,
        onProgress: (p) => progress.update({ done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds }),
      });
      progress.done();
      if (result.damaged.length === 0) {
        print(values, result, `Restored ${result.archive} (${formatBytes(result.size)}) to ${result.target}`);
        return 0;
      }
      if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else for (const d of result.damaged) process.stderr.write(`damaged: bytes ${d.start}-${d.end - 1}: ${d.message}\n`);
      throw new CairnError('CORRUPT', `${plural(result.damaged.length, 'range')} of ${result.archive} could not be read (listed above); `
        + (result.written ? `the rest is in ${result.written}, the damaged ranges as zeros` : `${result.target} was not written (--keep-damaged keeps the rest as ${result.target}.damaged)`));
    }
    case 'groups': {
      const store = openStore(need(args, 0, '<store>'));
      const groups = store.listGroups();
      const rows = [['GROUP', 'SNAPSHOTS', 'LAST BACKUP', 'OWNER', 'SOURCE'],
        ...groups.map((g) => [g.path, String(g.snapshotCount), g.lastBackup ? when(g.lastBackup) : '-', g.owner ?? '-',
          g.source ? describeSource(g.source) : '-'])];
      print(values, groups, groups.length === 0 ? 'No backup groups yet.' : table(rows));
      return 0;
    }
    case 'snapshots': {
      const store = openStore(need(args, 0, '<store>'));
      const groups = args[1] !== undefined ? [parseGroupPath(args[1])] : store.listGroups();
      const snapshots = groups.flatMap((g) => store.listSnapshots(g)).map((s) => ({ ...s, ...summaryOf(store, s) }));
      const rows = [['SNAPSHOT', 'STATE', 'SIZE', 'FILES', 'VERIFY', 'ARCHIVES'], ...snapshots.map((s) => [
        s.path, `${s.finished ? 'finished' : 'unfinished'}${s.protected ? ', protected' : ''}`, s.size === undefined ? '-' : formatBytes(s.size),
        s.fileCount === undefined ? '-' : String(s.fileCount), s.verifyState ?? (s.finished ? 'not verified' : '-'), s.files.join(' ')])];
      print(values, snapshots, snapshots.length === 0 ? 'No snapshots.' : table(rows));
      return 0;
    }
    case 'backup': {
      const store = openStore(need(args, 0, '<store>'));
      const dir = need(args, 1, '<dir>');
      const result = await backupFolder(store, dir, {
        id: values.id, excludes: values.exclude, chunkSize: chunkSizeOption(values), allowOtherSource: values['allow-other-source'],
        signal: abort.signal,
        log: { info: () => {}, warn: (m) => { progress.done(); if (!values.json) process.stderr.write(`warning: ${m}\n`); } },
        onProgress: (p) => progress.update({
          done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds,
          label: p.phase === 'scanning' ? `scanning: ${p.filesTotal} files` : `${p.filesDone}/${p.filesTotal} files  ${p.currentPath}`,
        }),
      });
      progress.done();
      const seconds = Math.max(result.elapsedMs / 1000, 1e-3);
      print(values, result, `Backed up ${plural(result.stats.files, 'file')} (${formatBytes(result.stats.bytes)}) to ${result.path} in ${formatDuration(seconds)}`
        + `\n  read ${formatBytes(result.bytesRead)}, reused ${formatBytes(result.bytesReused)} unchanged`
        + (result.base ? ` from ${result.base} (${result.foldersUnchanged} of ${result.stats.directories} folders unchanged)` : '')
        + `\n  new data ${formatBytes(result.newBytes)} in ${result.newChunks} chunks, ${formatBytes(result.dedupBytes)} deduplicated`
        + (result.stats.skipped > 0 ? `\n  ${plural(result.stats.skipped, 'entry', 'entries')} skipped (see warnings)` : '')
        + (result.excluded > 0 ? `\n  ${plural(result.excluded, 'entry', 'entries')} excluded` : ''));
      return 0;
    }
    case 'ls': {
      const store = openStore(need(args, 0, '<store>'));
      const reader = new FolderArchiveReader(store.openSnapshot(snapshotArg(store, need(args, 1, '<snapshot>'))));
      const entries = reader.list(args[2] ?? '').map(entryInfo);
      const rows = entries.map((e) => [e.kind === 'directory' ? 'd' : e.kind === 'symlink' ? 'l' : e.kind === 'hardlink' ? 'h' : '-',
        e.mode, e.kind === 'directory' ? '' : formatBytes(e.size), e.mtime.slice(0, 19).replace('T', ' '),
        `${e.name}${e.kind === 'directory' ? '/' : ''}${e.target ? ` -> ${e.target}` : ''}`]);
      print(values, entries, rows.length === 0 ? '(empty folder)' : table(rows));
      return 0;
    }
    case 'cat': {
      const store = openStore(need(args, 0, '<store>'));
      const reader = new FolderArchiveReader(store.openSnapshot(snapshotArg(store, need(args, 1, '<snapshot>'))));
      const path = need(args, 2, '<path>');
      const entry = reader.get(path);
      if (entry.kind !== EntryKind.File && entry.kind !== EntryKind.Hardlink) throw new CairnError('INVALID_ARGUMENT', `${path} is not a file`);
      for (const slice of reader.fileContent(entry)) {
        if (!process.stdout.write(slice)) await new Promise((r) => process.stdout.once('drain', r));
      }
      return 0;
    }
    case 'restore': {
      const store = openStore(need(args, 0, '<store>'));
      const ref = snapshotArg(store, need(args, 1, '<snapshot>'));
      if (values.to === undefined) throw new UsageError('missing --to <dir>');
      const { restoreFolder } = await import('../archive/folder-restore.js');
      const result = await restoreFolder(store, ref, values.to, {
        path: args[2], overwrite: values.overwrite, keepDamaged: values['keep-damaged'], signal: abort.signal,
        log: { info: () => {}, warn: (m) => { progress.done(); if (!values.json) process.stderr.write(`warning: ${m}\n`); } },
        onProgress: (p) => progress.update({ done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds,
          label: `${p.filesDone}/${p.filesTotal} files  ${p.currentPath}` }),
      });
      progress.done();
      print(values, result, `Restored ${plural(result.filesRestored, 'file')} (${formatBytes(result.bytesRestored)}) to ${result.target}`
        + (result.conflicts > 0 ? `; kept ${plural(result.conflicts, 'existing file')} (use --overwrite to replace ${result.conflicts === 1 ? 'it' : 'them'})` : ''));
      if (result.failedCount > 0) {
        throw new CairnError('IO', `${result.failedCount} ${result.failedCount === 1 ? 'entry' : 'entries'} of the snapshot could not be restored `
          + `(listed above as 'not restored'); everything else was`);
      }
      return 0;
    }
    case 'diff': {
      const store = openStore(need(args, 0, '<store>'));
      const { diffSnapshots } = await import('../archive/snapshot-diff.js');
      const diff = diffSnapshots(store, snapshotArg(store, need(args, 1, '<snapshot-a>')), snapshotArg(store, need(args, 2, '<snapshot-b>')));
      const sign = { added: '+', removed: '-', changed: 'M' } as const;
      const lines = diff.entries.map((e) => `${sign[e.change]} ${e.path}${e.kind === 'directory' ? '/' : ''}`
        + (e.change === 'changed' ? `  (${e.what?.join(', ')}${e.sizeBefore !== e.sizeAfter ? `: ${formatBytes(e.sizeBefore ?? 0)} -> ${formatBytes(e.sizeAfter ?? 0)}` : ''})`
          : `  ${formatBytes(e.sizeAfter ?? e.sizeBefore ?? 0)}`));
      lines.push(`${diff.added} added, ${diff.removed} removed, ${diff.changed} changed; +${formatBytes(diff.bytesAdded)} -${formatBytes(diff.bytesRemoved)}`);
      print(values, diff, lines.join('\n'));
      return 0;
    }
    case 'excludes': {
      const { previewExcludes } = await import('../archive/exclude-preview.js');
      const preview = await previewExcludes(need(args, 0, '<dir>'), values.exclude ?? [], { signal: abort.signal });
      const lines = preview.paths.map((p) => `${p.path}${p.isDirectory ? '/' : ''}`);
      lines.push(`${preview.excluded} entries excluded (${formatBytes(preview.excludedBytes)} of files); ${preview.files} files (${formatBytes(preview.bytes)}) would be backed up`);
      print(values, preview, lines.join('\n'));
      return 0;
    }
    default: {
      const run = STORE_COMMANDS.get(command);
      if (!run) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
      return run(args, {
        values, signal: abort.signal, progress,
        print: (json, human) => print(values, json, human),
        warn: (m) => { progress.done(); if (!values.json) process.stderr.write(`warning: ${m}\n`); },
      });
    }
  }
}

// A reader that goes away (`cairn ls … | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  progress.done();
  if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
    process.stderr.write(`cairn: ${err.message}\nRun 'cairn --help' for usage.\n`);
    process.exitCode = 2;
    return;
  }
  const message = err instanceof CairnError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`cairn: error: ${message}\n`);
  if (process.env.CAIRN_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exitCode = err instanceof CairnError && err.code === 'CANCELLED' ? 130 : 1;
});

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
