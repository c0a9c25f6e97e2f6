#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatBackupTime, parseGroupPath, parseSnapshotPath, assertBackupType } from '../backup/backup-names.js';
import { isValidChunkSize } from '../chunker/chunker-params.js';
import { Datastore } from '../datastore/datastore.js';
import type { Compression } from '../datastore/datastore-config.js';
import type { SyncLevel } from '../chunk-store/chunk-store.js';
import { CairnError } from '../errors.js';
import { backupImage } from '../image/image-backup.js';
import { restoreImage } from '../image/image-restore.js';
import { formatBytes, formatDuration, formatRate, parseSize, table } from './format.js';
import { TtyProgress } from './tty-progress.js';

const USAGE = `Usage: cairn <command> [options]

Commands:
  init <store> [--chunk-size 4M] [--compression zstd|none] [--sync none|file|filesystem]
                                   create a datastore in an empty or new folder
  backup-image <store> <file> [--id ID] [--type host|vm|ct] [--archive NAME] [--chunk-size 4M]
                                   back up one large file (a disk image) as <name>.img.fidx
  restore-image <store> <snapshot> --to <file> [--archive NAME] [--overwrite]
                                   restore an image archive byte for byte
  groups <store>                   list backup groups
  snapshots <store> [group]        list snapshots (of one group, e.g. host/docs)

Options:
  --json      machine-readable output on stdout
  --help      this text

A snapshot is written type/id/time, e.g. host/disk/2026-11-24T10:00:00Z.`;

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
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

/** The job's progress line, cleared before an error is printed. */
let progress = new TtyProgress(process.stderr, false);

function need(positionals: string[], index: number, what: string): string {
  const v = positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

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

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
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
      const store = Datastore.open(need(args, 0, '<store>'));
      const file = need(args, 1, '<file>');
      const result = await backupImage(store, file, {
        id: values.id, type: values.type === undefined ? undefined : assertBackupType(values.type), archiveName: values.archive,
        chunkSize: chunkSizeOption(values), signal: abort.signal,
        onProgress: (p) => progress.update({ done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds }),
      });
      progress.done();
      print(values, result, `Backed up ${file} to ${result.path}/${result.archive}: ${formatBytes(result.bytesDone)} in `
        + `${formatDuration(result.elapsedMs / 1000)} (${formatRate(result.bytesDone / Math.max(result.elapsedMs / 1000, 1e-3))}), `
        + `${result.newChunks} of ${result.chunks} chunks new (${formatBytes(result.newBytes)} written), ${formatBytes(result.dedupBytes)} deduplicated`);
      return 0;
    }
    case 'restore-image': {
      const store = Datastore.open(need(args, 0, '<store>'));
      const ref = parseSnapshotPath(need(args, 1, '<snapshot>'));
      if (values.to === undefined) throw new UsageError('missing --to <file>');
      const result = await restoreImage(store, ref, values.to, {
        archiveName: values.archive, overwrite: values.overwrite, signal: abort.signal,
        onProgress: (p) => progress.update({ done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds }),
      });
      progress.done();
      print(values, result, `Restored ${result.archive} (${formatBytes(result.size)}) to ${result.target}`);
      return 0;
    }
    case 'groups': {
      const store = Datastore.open(need(args, 0, '<store>'));
      const groups = store.listGroups();
      const rows = [['GROUP', 'SNAPSHOTS', 'LAST BACKUP', 'OWNER'],
        ...groups.map((g) => [g.path, String(g.snapshotCount), g.lastBackup ? when(g.lastBackup) : '-', g.owner ?? '-'])];
      print(values, groups, groups.length === 0 ? 'No backup groups yet.' : table(rows));
      return 0;
    }
    case 'snapshots': {
      const store = Datastore.open(need(args, 0, '<store>'));
      const groups = args[1] !== undefined ? [parseGroupPath(args[1])] : store.listGroups();
      const snapshots = groups.flatMap((g) => store.listSnapshots(g));
      const rows = [['SNAPSHOT', 'STATE', 'FILES'], ...snapshots.map((s) => [
        s.path, `${s.finished ? 'finished' : 'unfinished'}${s.protected ? ', protected' : ''}`, s.files.join(' ')])];
      print(values, snapshots, snapshots.length === 0 ? 'No snapshots.' : table(rows));
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

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
