import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CairnError } from '../errors.js';
import { keepYoungGenerationSmall, startWorkersWithRoomToAllocate } from '../jobs/heap-flags.js';
import {
  ARCHIVE_COMMAND_OPTIONS,
  KEY_COMMAND_OPTIONS,
  KEY_SUBCOMMANDS,
  REMOTE_COMMAND_OPTIONS,
  REMOTE_SUBCOMMANDS,
  SCHEDULER_COMMAND_OPTIONS,
  STORE_COMMAND_OPTIONS,
} from './command-options.js';
import { PLAN_ADD_OPTIONS, PLAN_COMMAND_OPTIONS, PLAN_EDIT_OPTIONS, PLAN_SUBCOMMANDS } from './plan-options.js';
import { TtyProgress } from './tty-progress.js';
import { parseArgsMessage, UsageError } from './usage-error.js';

const USAGE = `Usage: cairn <command> [options]

Commands:
  init <store> [--chunk-size 4M] [--compression zstd|none] [--sync none|file|filesystem]
                                   create a datastore in an empty or new folder
  backup-image <store> <file> [--id ID] [--type host|vm|ct] [--archive NAME] [--chunk-size 4M]
        [--allow-other-source] [encryption]
                                   back up one large file (a disk image) as <name>.img.fidx
  restore-image <store> <snapshot> --to <file> [--archive NAME] [--overwrite] [--keep-damaged]
                                   restore an image archive byte for byte (damaged ranges are named;
                                   --keep-damaged keeps the readable rest as <file>.damaged)
  backup <store> <dir>... [--id ID] [--exclude PATTERN]... [--chunk-size 1M] [--allow-other-source]
        [encryption]               back up a folder (incremental: unchanged files are not read); several
                                   folders (--id needed) are one snapshot whose root holds each by its name;
                                   exit code 3 if some entries could not be read (the snapshot lacks them)
  ls <store> <snapshot> [path]     list a folder of a snapshot
  cat <store> <snapshot> <path>    write one file of a snapshot to stdout
  restore <store> <snapshot> [path] --to <dir> [--overwrite] [--keep-damaged] [--dry-run]
                                   restore a snapshot, a folder of it (its contents) or one file; a file
                                   with a damaged chunk is named and left out (--keep-damaged: its readable
                                   rest is kept as <name>.damaged); --dry-run: only what is in <dir> already
                                   (files as backed up, files that differ), nothing written
  restore <store> <snapshot> [path] --in-place [--conflict overwrite|keep-both|skip] [--overwrite-newer]
        [--dry-run]                put it back where it was backed up from: missing files come back, files as they
                                   were stay; one that differs is replaced, kept beside as 'name (restored DATE).ext'
                                   (the default: keep-both) or left alone; one changed since the backup is never
                                   replaced without --overwrite-newer. --dry-run: only the preview
  diff <store> <snapshot-a> <snapshot-b>
                                   what was added, removed and changed between two snapshots
  versions <store> <group> <path>  every version of a file or folder across the group's snapshots (by content;
                                   runs of the same version shown once, absences too); exit code 3 if some
                                   snapshots could not be read (named)
  find <store> <group|snapshot> <pattern> [--size +10M|-1M|1M..5M] [--newer 7d|2026-11-01] [--older …]
                                   entries by name (a glob such as '*.pdf', or a part of the name; any case) in a
                                   snapshot, or across the group's (each path once, with its newest snapshot);
                                   exit code 3 if some of the group's snapshots could not be read (named)
  excludes <dir> [--exclude PATTERN]...
                                   preview what the patterns and .cairnignore files exclude, and what
                                   could not be read as things stand
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

Backup plans (what to back up, where, when, how long to keep it), kept in $CAIRN_CONFIG_DIR or the user's
config folder (~/.config/cairn/plans.json on Linux), the same plans the app shows and runs:
  plan add <name> --source <dir>... [--source-image <file>]... --store <store> [settings]
                                   add a plan of one or more folders and disk images, backed up together
                                   (--source <file> --image: every --source is a disk image file)
  plan list                        the plans: schedule, state, last success, next run
  plan show <plan>                 all settings, the excludes in effect, the next 3 runs and the last runs
  plan edit <plan> [settings] [--name NEW] [--pause|--resume]
                                   change the settings given (each replaces that one, the sources given all
                                   of them; the group stays)
  plan remove <plan>               remove a plan, its state and run history (never its snapshots)
  plan run <plan>                  run it now in this process; exit code 1 if it failed, 3 if it left
                                   entries out
  plan pause-all [--for 2h]        no plan starts by its schedule, for a while or until resume-all
  plan resume-all                  end the pause
Plan settings:
  --exclude PATTERN... --preset caches|trash|node-modules|build-outputs|vm-images...
                                   what to leave out ('' clears the list)
  --every 30m|2h | --daily HH:MM | --weekly mon,wed@HH:MM | --calendar "30 2 * * 1-5" | --manual
                                   the schedule, one of them (default: daily at 12:00)
  --keep-last N --keep-hourly N --keep-daily N --keep-weekly N --keep-monthly N --keep-yearly N
                                   retention after each backup, as prune's (0 unsets a rule; none: keep all)
  --gc-every-days N --full-verify-every-days N
                                   GC / a full verify after a run when the last is N days old (7, 30; 0: never)
  --verify-new                     verify each new snapshot after its backup
  --skip-on-battery                scheduled runs wait for mains power
  --push-to REMOTE [--push-keep last=3,daily=7,weekly=4,monthly=12,yearly=2] [--skip-push-on-metered]
                                   after each backup, push the plan's group to a remote (cairn remote add), which
                                   keeps its own number of snapshots; --push-to '' ends it. --skip-push-on-metered:
                                   on a metered network (NetworkManager says so) the push waits for the next run
  --keyfile FILE | --encrypt       encrypt its backups with that key (--encrypt: the default key); a run opens the
                                   key file itself: no passphrase, or $CAIRN_PASSPHRASE, else it fails as "key
                                   locked" (the app uses its unlocked key); edit --no-encrypt: plain from now on
  --notify off|failures|all        desktop notifications (default: failures, and the recovery after them)
  --paused                         add it paused (edit: --pause, --resume)
  With edit, --no-verify-new and --no-skip-on-battery turn those off.
A plan is named by its id or its name; it backs up into the group host/<its name as an id>, kept on renames.

Scheduler:
  scheduler [--once]               run plans when they are due, in the foreground, one line per event on stdout,
                                   until SIGINT or SIGTERM (a running backup is cancelled); one scheduler per
                                   user runs plans: another (the app, a second 'cairn scheduler') stands by and
                                   takes over when it stops. --once: run what is due now, then exit (for cron
                                   or a systemd timer; exit code 1 if a run failed, 3 if one left entries out)
  scheduler --install-unit         write the systemd user unit cairn-scheduler.service into
                                   $XDG_CONFIG_HOME/systemd/user (~/.config/systemd/user): it runs this node and
                                   cairn.js as 'cairn scheduler' (with $CAIRN_CONFIG_DIR if set),
                                   Restart=on-failure. Then: systemctl --user enable --now cairn-scheduler
                                   (log: journalctl --user -u cairn-scheduler; loginctl enable-linger keeps it
                                   running when you are logged out)

Encryption keys, in PBS's key file format (FILE: keys/default.json in $CAIRN_CONFIG_DIR or the config folder):
  key create [FILE] [--kdf scrypt|pbkdf2|none] [--hint TEXT] [--force] [--passphrase-fd N]
                                   a new random key, encrypted with a passphrase (scrypt by default; none: the
                                   file is the key); an existing file is replaced only with --force
  key show [FILE]                  its fingerprint, short fingerprint, kdf, dates and hint (no passphrase needed)
  key change-passphrase [FILE] [--kdf scrypt|pbkdf2|none] [--hint TEXT] [--passphrase-fd N]
                                   the same key under a new passphrase (the old hint is dropped)
  key paperkey [FILE] [--output PAGE.html|PAGE.txt] [--force]
                                   a page to print: the key file as text and as a QR code (no --output: text on stdout)
  key create-master [DIR] [--force] [--passphrase-fd N]
                                   an RSA master key pair: master-public.pem for backups (--master-pubkey-file),
                                   master-private.pem (under a passphrase) to keep offline
  key recover <store> <snapshot> <FILE> --master-key master-private.pem [--kdf ...] [--hint TEXT] [--force]
                                   the key of a backup made with --master-pubkey-file, from the snapshot, into a
                                   new key file FILE (the master key's passphrase, then the new one)
  A passphrase (at least 5 bytes) is asked on the terminal without echo, a new one twice; scripts give it with
  --passphrase-fd N (one line per passphrase, in the order asked: the current one, then the new one) or in
  $CAIRN_PASSPHRASE ($CAIRN_NEW_PASSPHRASE: the new one of change-passphrase and recover).

Encrypted backups (AES-256-GCM in PBS's format; names, contents and sizes of files are all encrypted):
  [encryption] of backup and backup-image: --keyfile FILE, or --encrypt (the default key), and optionally
        --master-pubkey-file PEM (the key is also stored RSA-encrypted for the master key's holder)
  restore, restore-image, ls, cat, diff and verify read an encrypted snapshot with --keyfile FILE, or with the
        default key when it is the one the snapshot was made with; without its key they refuse and name it
        (verify without it checks the chunks' CRC only). prune, forget and gc never need a key.
  A group whose newest backup is encrypted takes no plain backup. The passphrase comes as for the key commands.

Off-site copies on S3-compatible object storage (AWS S3, Backblaze B2, Wasabi, Ceph, MinIO…), kept in
remotes.json in the config folder; the bucket holds the store's own layout under the prefix:
  remote add <name> --endpoint URL --bucket NAME [--region R] [--prefix PATH/] [--virtual-host]
        [--no-store-credentials]   add a remote; the credentials in $CAIRN_S3_ACCESS_KEY_ID and
                                   $CAIRN_S3_SECRET_ACCESS_KEY (or AWS_…) are stored with it (mode 0600) unless
                                   --no-store-credentials (then they must be in the environment each time)
  remote list | show <name> | remove <name>
  remote check <name>              what the service supports (conditional create, Content-MD5, paging, batch delete)
  remote snapshots <name>          the snapshots in the remote
  remote ls <name> <snapshot> [path] | remote cat <name> <snapshot> <path>
  remote restore <name> <snapshot> [path] --to <dir> [--overwrite] [--keep-damaged] [--parallel 12]
                                   read straight from the remote, without pulling the snapshot: its listing and the
                                   chunks asked for are fetched into a bounded cache ($CAIRN_CACHE_DIR or
                                   ~/.cache/cairn, 2 GiB), 12 requests at a time ahead of the restore, each
                                   verified; --keyfile for an encrypted one
  push <store> <remote> [group|snapshot]... [--parallel 8] [--limit 10M]
                                   send what the remote lacks (all groups by default): chunks, then indexes, the
                                   manifest last; an interrupted push resumes without sending chunks again
  pull <remote> <store> [group|snapshot]... [--parallel 8]
                                   bring snapshots back into a local store, every chunk verified
  remote prune <name> <group> [--keep-last N] … [--dry-run]
                                   the remote's own retention (as prune's; each manifest is deleted first)
  remote gc <name>                 delete the chunks no remote snapshot uses; safe while other machines push (it
                                   backs off while a push runs); reports its request count
  Encrypted snapshots are pushed as they are: the remote never needs the key.

Options:
  --json      machine-readable output on stdout (warnings in it, as "warnings")
  --help      this text
Every command takes --json and --help and only the options shown with it; any other is refused (exit code 2).

A snapshot is written type/id/time, e.g. host/docs/2026-11-24T10:00:00Z; a group (host/docs) means its newest
finished snapshot (forget needs the full path; verify and prune take the whole group). Forget, prune and
delete-group only remove snapshots: gc frees the space of chunks no snapshot uses.
A group records the folders (or images) it backs up: a backup of another one into it is refused unless
--allow-other-source says it is the same data, moved.
Exclude patterns use .gitignore syntax, relative to the backed-up folder.`;

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  ...ARCHIVE_COMMAND_OPTIONS,
  ...STORE_COMMAND_OPTIONS,
  ...PLAN_COMMAND_OPTIONS,
  ...SCHEDULER_COMMAND_OPTIONS,
  ...KEY_COMMAND_OPTIONS,
  ...REMOTE_COMMAND_OPTIONS,
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; allowNegative: true }>
>['values'];
type OptionName = keyof typeof OPTIONS;

/** The key options of the commands that write backups, and of those that read them (cli-keys.ts). */
const READ_KEY_OPTIONS: readonly OptionName[] = ['keyfile', 'passphrase-fd'];
const BACKUP_KEY_OPTIONS: readonly OptionName[] = ['keyfile', 'encrypt', 'master-pubkey-file', 'passphrase-fd'];

/** The options each command takes, besides --json and --help: any other is a usage error, and nothing is done. */
const COMMAND_OPTIONS: Record<string, readonly OptionName[]> = {
  init: ['chunk-size', 'compression', 'sync'],
  'backup-image': ['id', 'type', 'archive', 'chunk-size', 'allow-other-source', ...BACKUP_KEY_OPTIONS],
  'restore-image': ['to', 'archive', 'overwrite', 'keep-damaged', ...READ_KEY_OPTIONS],
  backup: ['id', 'exclude', 'chunk-size', 'allow-other-source', ...BACKUP_KEY_OPTIONS],
  ls: READ_KEY_OPTIONS,
  cat: READ_KEY_OPTIONS,
  diff: READ_KEY_OPTIONS,
  versions: READ_KEY_OPTIONS,
  find: ['size', 'newer', 'older', ...READ_KEY_OPTIONS],
  groups: [],
  snapshots: [],
  status: [],
  verify: READ_KEY_OPTIONS,
  gc: [],
  protect: [],
  unprotect: [],
  restore: [
    'to',
    'overwrite',
    'keep-damaged',
    'in-place',
    'conflict',
    'overwrite-newer',
    'dry-run',
    ...READ_KEY_OPTIONS,
  ],
  excludes: ['exclude'],
  prune: ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly', 'dry-run'],
  forget: ['dry-run'],
  'delete-group': ['dry-run'],
  notes: ['set'],
  'plan add': PLAN_ADD_OPTIONS,
  'plan edit': PLAN_EDIT_OPTIONS,
  'plan list': [],
  'plan show': [],
  'plan remove': [],
  'plan run': [],
  'plan pause-all': ['for'],
  'plan resume-all': [],
  scheduler: ['install-unit', 'once'],
  'key create': ['kdf', 'hint', 'force', 'passphrase-fd'],
  'key show': [],
  'key change-passphrase': ['kdf', 'hint', 'passphrase-fd'],
  'key paperkey': ['output', 'force'],
  'key create-master': ['force', 'passphrase-fd'],
  'remote add': ['endpoint', 'region', 'bucket', 'prefix', 'virtual-host', 'store-credentials'],
  'remote list': [],
  'remote show': [],
  'remote check': [],
  'remote remove': [],
  'remote snapshots': [],
  'remote prune': ['keep-last', 'keep-hourly', 'keep-daily', 'keep-weekly', 'keep-monthly', 'keep-yearly', 'dry-run'],
  'remote gc': [],
  'remote ls': READ_KEY_OPTIONS,
  'remote cat': ['parallel', ...READ_KEY_OPTIONS],
  'remote restore': ['to', 'overwrite', 'keep-damaged', 'parallel', ...READ_KEY_OPTIONS],
  push: ['parallel', 'limit'],
  pull: ['parallel'],
  'key recover': ['master-key', 'kdf', 'hint', 'force', 'passphrase-fd'],
};

/** Refuses an unknown command, and an option the command does not take (it would be ignored: a --dry-run that deletes). */
function checkOptions(command: string, values: Values): void {
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  // --no-verify-new is the option verify-new set to false: the same option, the same check.
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || name === 'json' || name === 'help' || allowed.includes(name as OptionName)) continue;
    throw new UsageError(
      `${command} takes no --${name}${allowed.length > 0 ? ` (it takes ${allowed.map((o) => `--${o}`).join(', ')})` : ''}`,
    );
  }
}

/** What every command gets: the parsed options, Ctrl-C as a signal, the progress line, output and warnings. */
interface CliContext {
  values: Values;
  signal: AbortSignal;
  progress: TtyProgress;
  print(json: unknown, human: string): void;
  warn(message: string): void;
}

/** The job's progress line, cleared before an error is printed. */
let progress = new TtyProgress(process.stderr, false);

/** Whether the command printed its result (a failure after it, such as verify's, adds no JSON error object). */
let printedResult = false;

/** The warnings said so far; with --json they are not printed as lines (see jsonWithWarnings). */
const warningsSaid: string[] = [];

function print(values: Values, json: unknown, human: string): void {
  printedResult = true;
  process.stdout.write(values.json ? `${JSON.stringify(jsonWithWarnings(json), null, 2)}\n` : `${human}\n`);
}

/**
 * With --json a warning is part of the result, never dropped: a result object that has no `warnings` of its own
 * (a backup's has) gets the ones said; a result that cannot hold them (a list) leaves them on stderr.
 */
function jsonWithWarnings(json: unknown): unknown {
  if (warningsSaid.length === 0) return json;
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    return 'warnings' in json ? json : { ...json, warnings: [...warningsSaid] };
  }
  for (const m of warningsSaid) process.stderr.write(`warning: ${m}\n`);
  return json;
}

function warn(values: Values, message: string): void {
  progress.done();
  // Said after the result was printed, it can only go to stderr.
  if (values.json && !printedResult) warningsSaid.push(message);
  else process.stderr.write(`warning: ${message}\n`);
}

/** Parses the arguments, refuses what the command does not take, and runs the command (archive-commands.ts, store-commands.ts). */
async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
    allowNegative: true,
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  const { name, args } = commandName(command, rest);
  checkOptions(name, values);
  progress = new TtyProgress(process.stderr, values.json ? false : undefined);
  // Ctrl-C cancels the job cleanly (the partial snapshot is removed) instead of killing it mid-write.
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  const ctx: CliContext = {
    values,
    signal: abort.signal,
    progress,
    print: (json: unknown, human: string) => print(values, json, human),
    warn: (m: string) => warn(values, m),
  };
  return runCommand(name, args, ctx);
}

/** Loads the module of the one command that runs, and runs it. */
async function runCommand(name: string, args: string[], ctx: CliContext): Promise<number> {
  if (name === 'backup' || name === 'plan run') keepYoungGenerationSmall();
  if (name === 'restore' || name === 'remote restore') startWorkersWithRoomToAllocate();
  if (name === 'scheduler') return (await import('./scheduler-command.js')).schedulerCommand(args, ctx);
  if (name.startsWith('plan ')) {
    const { PLAN_COMMANDS } = await import('./plan-commands.js');
    return PLAN_COMMANDS.get(name.slice('plan '.length))!(args, ctx);
  }
  if (name.startsWith('remote ') || name === 'push' || name === 'pull') {
    const { REMOTE_COMMANDS } = await import('./remote-commands.js');
    return REMOTE_COMMANDS.get(name)!(args, ctx);
  }
  if (name.startsWith('key ')) {
    const { KEY_COMMANDS } = await import('./key-commands.js');
    return KEY_COMMANDS.get(name.slice('key '.length))!(args, ctx);
  }
  if (name === 'versions' || name === 'find') {
    const { FIND_COMMANDS } = await import('./find-commands.js');
    return FIND_COMMANDS.get(name)!(args, ctx);
  }
  const run =
    (await import('./archive-commands.js')).ARCHIVE_COMMANDS.get(name) ??
    (await import('./store-commands.js')).STORE_COMMANDS.get(name);
  if (!run) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  return run(args, ctx);
}

/** The commands that have sub-commands: `plan add` is one command, as is `key create`. */
const SUBCOMMANDS: Record<string, readonly string[]> = {
  plan: PLAN_SUBCOMMANDS,
  key: KEY_SUBCOMMANDS,
  remote: REMOTE_SUBCOMMANDS,
};

/** `plan <sub-command>` and `key <sub-command>` are one command ('plan add'); the others are their first word. */
function commandName(command: string, rest: string[]): { name: string; args: string[] } {
  const subcommands = SUBCOMMANDS[command];
  if (!subcommands) return { name: command, args: rest };
  const [sub, ...args] = rest;
  const subs = subcommands.join(', ');
  if (sub === undefined) throw new UsageError(`${command} needs a sub-command: ${subs}`);
  if (!subcommands.includes(sub))
    throw new UsageError(`unknown ${command} sub-command ${JSON.stringify(sub)} (${subs})`);
  return { name: `${command} ${sub}`, args };
}

// A reader that goes away (`cairn ls … | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    // A command that printed no result (there was nothing to hold them) still shows what it warned about.
    if (!printedResult) for (const m of warningsSaid.splice(0)) process.stderr.write(`warning: ${m}\n`);
    process.exitCode = code;
  },
  (err: unknown) => {
    progress.done();
    if (
      err instanceof UsageError ||
      (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      const message = err instanceof UsageError ? err.message : parseArgsMessage((err as Error).message);
      process.stderr.write(`cairn: ${message}\nRun 'cairn --help' for usage.\n`);
      process.exitCode = 2;
      printJsonError('USAGE', message, 2);
      return;
    }
    let message = err instanceof CairnError ? err.message : err instanceof Error ? err.message : String(err);
    if (err instanceof CairnError && err.code === 'KEY_REQUIRED') message += ' (--keyfile FILE)';
    process.stderr.write(`cairn: error: ${message}\n`);
    if (process.env.CAIRN_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exitCode = err instanceof CairnError && err.code === 'CANCELLED' ? 130 : 1;
    printJsonError(err instanceof CairnError ? err.code : 'INTERNAL', message, process.exitCode);
  },
);

/**
 * With --json, a failure is a JSON object on stdout too, `{"error": {code, message, exitCode}}`, so that a script
 * reading stdout gets one either way (the line on stderr stays for whoever watches), unless the command printed
 * its result before failing (verify's result says what failed).
 */
function printJsonError(code: string, message: string, exitCode: number): void {
  const json = process.argv.slice(2).some((a) => a === '--json' || a.startsWith('--json='));
  if (json && !printedResult)
    process.stdout.write(`${JSON.stringify(jsonWithWarnings({ error: { code, message, exitCode } }), null, 2)}\n`);
}
