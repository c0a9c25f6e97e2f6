import { parseGroupPath, parseSnapshotPath, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import { EntryKind } from '../archive/archive-format.js';
import type { Datastore } from '../datastore/datastore.js';
import { CairnError } from '../errors.js';
import { cairnConfigDir } from '../plans/config-dir.js';
import { Bucket } from '../remote/bucket.js';
import { credentialsFromEnv, RemoteBook, type Remote } from '../remote/remote-book.js';
import type { RemoteSnapshot } from '../remote/remote-snapshots.js';
import { formatBytes, formatDuration, plural } from '../../contract/format.js';
import { parseSize, table } from './format.js';
import { openStore } from './open-store.js';
import { need, type CommandContext } from './store-commands.js';
import { UsageError } from './usage-error.js';

/**
 * `cairn remote add|list|show|check|remove|snapshots`, `cairn push` and `cairn pull`: off-site copies on S3
 * (core/remote/, docs/REMOTES.md). Credentials come from the environment or are stored with the remote (mode 0600);
 * no command prints a secret.
 */
export interface RemoteCommandContext extends Omit<CommandContext, 'values'> {
  values: {
    endpoint?: string;
    region?: string;
    bucket?: string;
    prefix?: string;
    'virtual-host'?: boolean;
    'store-credentials'?: boolean;
    parallel?: string;
    limit?: string;
    to?: string;
    overwrite?: boolean;
    'keep-damaged'?: boolean;
    keyfile?: string;
    'passphrase-fd'?: string;
    json?: boolean;
  };
}

type RemoteCommand = (args: string[], ctx: RemoteCommandContext) => Promise<number>;

function book(): RemoteBook {
  return new RemoteBook(cairnConfigDir());
}

function openBucket(name: string): Bucket {
  const remotes = book();
  return new Bucket(remotes.get(name), remotes.credentials(name));
}

/** Where a remote's credentials are: stored with it, sealed by the desktop app (no CLI can open those), or neither. */
type CredentialsWhere = 'stored' | 'sealed' | 'environment';

function credentialsWhere(remotes: RemoteBook, name: string): CredentialsWhere {
  if (remotes.hasStoredCredentials(name)) return 'stored';
  return remotes.sealedCredentials(name) ? 'sealed' : 'environment';
}

const CREDENTIALS_JSON: Record<CredentialsWhere, string> = {
  stored: 'stored (remote-credentials.json)',
  sealed: 'sealed by the desktop app (OS keychain; not readable here)',
  environment: 'from the environment',
};

function remoteInfo(remote: Remote, where: CredentialsWhere) {
  return { ...remote, credentials: CREDENTIALS_JSON[where] };
}

const add: RemoteCommand = async (args, ctx) => {
  if (args.length !== 1) throw new UsageError('remote add takes one <name>');
  const v = ctx.values;
  if (v.endpoint === undefined) throw new UsageError('missing --endpoint URL (e.g. https://s3.example.com)');
  if (v.bucket === undefined) throw new UsageError('missing --bucket NAME');
  const credentials = credentialsFromEnv(process.env);
  const store = v['store-credentials'] !== false;
  if (store && !credentials)
    throw new UsageError(
      'set CAIRN_S3_ACCESS_KEY_ID and CAIRN_S3_SECRET_ACCESS_KEY to store them with the remote, or give --no-store-credentials',
    );
  const remote = book().add(
    {
      name: args[0]!,
      endpoint: v.endpoint,
      region: v.region ?? 'us-east-1',
      bucket: v.bucket,
      prefix: v.prefix ?? '',
      pathStyle: v['virtual-host'] !== true,
    },
    store ? credentials : undefined,
  );
  const where = store ? 'stored' : 'environment';
  ctx.print(remoteInfo(remote, where), `Added the remote ${remote.name}\n${remoteText(remote, where)}`);
  return 0;
};

const CREDENTIALS_TEXT: Record<CredentialsWhere, string> = {
  stored: 'stored with it (mode 0600)',
  sealed: 'sealed by the desktop app with the OS keychain: set CAIRN_S3_* to use it here',
  environment: 'from the environment',
};

function remoteText(remote: Remote, where: CredentialsWhere): string {
  const rows = [
    ['endpoint', remote.endpoint],
    ['region', remote.region],
    ['bucket', remote.bucket],
    ['prefix', remote.prefix || '(the whole bucket)'],
    ['addressing', remote.pathStyle ? 'path style' : 'virtual-host style'],
    ['credentials', CREDENTIALS_TEXT[where]],
  ];
  return table(rows.map(([k, val]) => [`  ${k}:`, val!]));
}

const list: RemoteCommand = async (args, ctx) => {
  if (args.length > 0) throw new UsageError('remote list takes no arguments');
  const remotes = book();
  const all = remotes.list();
  const rows = [
    ['NAME', 'ENDPOINT', 'BUCKET', 'PREFIX'],
    ...all.map((r) => [r.name, r.endpoint, r.bucket, r.prefix || '-']),
  ];
  ctx.print(
    all.map((r) => remoteInfo(r, credentialsWhere(remotes, r.name))),
    all.length === 0 ? 'No remotes yet (cairn remote add).' : table(rows),
  );
  return 0;
};

const show: RemoteCommand = async (args, ctx) => {
  const name = need(args, 0, '<remote>');
  const remotes = book();
  const remote = remotes.get(name);
  const where = credentialsWhere(remotes, name);
  ctx.print(remoteInfo(remote, where), `Remote ${name}\n${remoteText(remote, where)}`);
  return 0;
};

const check: RemoteCommand = async (args, ctx) => {
  const bucket = openBucket(need(args, 0, '<remote>'));
  const { checkRemote } = await import('../remote/remote-check.js');
  const caps = await checkRemote(bucket, ctx.signal);
  bucket.close();
  if (ctx.signal?.aborted) throw new CairnError('CANCELLED', 'cancelled');
  const reached = caps[0]!;
  // Nothing else was probed: the service, the bucket or the credentials failed, not a feature of the service.
  // The error names the remote, its endpoint and bucket ({"error": …} with --json).
  if (reached.name === 'bucket' && !reached.ok) throw new CairnError('IO', reached.detail);
  const lines = caps.map((c) => `${c.ok ? 'ok     ' : 'MISSING'} ${c.name}: ${c.detail}`);
  const missing = caps.filter((c) => !c.ok);
  lines.push(missing.length === 0 ? `OK: ${bucket.name} supports everything Cairn needs` : `${missing.length} missing`);
  ctx.print({ remote: bucket.name, capabilities: caps, requests: bucket.requests }, lines.join('\n'));
  if (missing.length > 0)
    throw new CairnError(
      'INVALID_ARGUMENT',
      `the remote ${bucket.name} lacks ${missing.map((c) => c.name).join(', ')}`,
    );
  return 0;
};

const remove: RemoteCommand = async (args, ctx) => {
  const remote = book().remove(need(args, 0, '<remote>'));
  ctx.print(remoteInfo(remote, 'environment'), `Removed the remote ${remote.name} (nothing in its bucket was touched)`);
  return 0;
};

const snapshots: RemoteCommand = async (args, ctx) => {
  const bucket = openBucket(need(args, 0, '<remote>'));
  const { listRemoteSnapshots } = await import('../remote/remote-snapshots.js');
  const all = await listRemoteSnapshots(bucket, ctx.signal);
  bucket.close();
  const rows = [
    ['SNAPSHOT', 'STATE', 'FILES'],
    ...all.map((s) => [s.path, s.finished ? 'complete' : 'incomplete (a push was cut off)', String(s.files.length)]),
  ];
  ctx.print(all, all.length === 0 ? `No snapshots on ${bucket.name}.` : table(rows));
  return 0;
};

/** `group` means all of its finished snapshots, `type/id/time` that one; nothing means every group's. */
function selectLocal(store: Datastore, args: string[]): SnapshotRef[] {
  const all = store.listGroups().flatMap((g) => store.listSnapshots(g).filter((s) => s.finished));
  if (args.length === 0) return all;
  return args.flatMap((arg) => {
    const isGroup = arg.split('/').length === 2;
    const wanted = isGroup ? parseGroupPath(arg) : parseSnapshotPath(arg);
    const hits = all.filter(
      (s) => s.type === wanted.type && s.id === wanted.id && (isGroup || s.time === (wanted as SnapshotRef).time),
    );
    if (hits.length === 0)
      throw new CairnError('NOT_FOUND', `${arg}: no finished snapshot of that name in ${store.root}`);
    return hits;
  });
}

function selectRemote(all: RemoteSnapshot[], args: string[], remote: string): RemoteSnapshot[] {
  const done = all.filter((s) => s.finished);
  if (args.length === 0) return done;
  return args.flatMap((arg) => {
    const hits = done.filter((s) => s.path === arg || `${s.type}/${s.id}` === arg);
    if (hits.length === 0) throw new CairnError('NOT_FOUND', `${arg}: no complete snapshot of that name on ${remote}`);
    return hits;
  });
}

function parallelOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new UsageError(`--parallel takes 1 to 64, not ${JSON.stringify(text)}`);
  return n;
}

function limitOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSize(text);
  if (bytes === undefined || bytes < 1024)
    throw new UsageError(`--limit takes bytes per second such as 10M or 500K, not ${JSON.stringify(text)}`);
  return bytes;
}

const push: RemoteCommand = async (args, ctx) => {
  // The options first: a usage error comes before anything is opened.
  const parallel = parallelOption(ctx.values.parallel);
  const bandwidth = limitOption(ctx.values.limit);
  const store = openStore(need(args, 0, '<store>'));
  const bucket = openBucket(need(args, 1, '<remote>'));
  const refs = selectLocal(store, args.slice(2));
  // Snapshots named one by one are sent even when older than the remote's newest of their group.
  const named = args.slice(2).filter((arg) => arg.split('/').length > 2);
  const { pushSnapshots } = await import('../remote/push.js');
  const result = await pushSnapshots(store, bucket, refs, {
    named: new Set(named.map((arg) => snapshotPath(parseSnapshotPath(arg)))),
    parallel,
    bandwidth,
    signal: ctx.signal,
    log: { info: () => {}, warn: ctx.warn },
    onProgress: (p) =>
      ctx.progress.bytes(
        p,
        p.phase === 'listing'
          ? 'listing the remote'
          : `${p.snapshotsDone}/${p.snapshotsTotal} snapshots  ${p.currentSnapshot}`,
      ),
  });
  ctx.progress.done();
  bucket.close();
  ctx.print(
    result,
    `Pushed ${plural(result.pushed.length, 'snapshot')} to ${bucket.name} in ${formatDuration(result.elapsedMs / 1000)}: ` +
      `${formatBytes(result.bytesDone)}, ${plural(result.chunksUploaded, 'chunk')} uploaded, ${plural(result.requests, 'request')}` +
      (result.present.length > 0
        ? `; ${plural(result.present.length, 'snapshot')} ${result.present.length === 1 ? 'was' : 'were'} there already`
        : '') +
      (result.olderSkipped.length > 0
        ? `; ${plural(result.olderSkipped.length, 'snapshot')} older than the newest on ${bucket.name} left out ` +
          `(its retention may have removed them; name one to send it)`
        : ''),
  );
  return 0;
};

const pull: RemoteCommand = async (args, ctx) => {
  const parallel = parallelOption(ctx.values.parallel);
  const bucket = openBucket(need(args, 0, '<remote>'));
  const store = openStore(need(args, 1, '<store>'));
  const { listRemoteSnapshots } = await import('../remote/remote-snapshots.js');
  const { pullSnapshots } = await import('../remote/pull.js');
  const chosen = selectRemote(await listRemoteSnapshots(bucket, ctx.signal), args.slice(2), bucket.name);
  const result = await pullSnapshots(bucket, store, chosen, {
    parallel,
    signal: ctx.signal,
    log: { info: () => {}, warn: ctx.warn },
    onProgress: (p) =>
      ctx.progress.update(
        {
          done: p.snapshotsDone,
          total: p.snapshotsTotal,
          rate: p.rate,
          label: `${formatBytes(p.bytesDone)}  ${p.currentSnapshot}`,
        },
        'count',
      ),
  });
  ctx.progress.done();
  bucket.close();
  ctx.print(
    result,
    `Pulled ${plural(result.pulled.length, 'snapshot')} from ${bucket.name} into ${store.root}: ` +
      `${formatBytes(result.bytesDone)}, ${plural(result.chunksFetched, 'chunk')} fetched and verified` +
      (result.present.length > 0
        ? `; ${plural(result.present.length, 'snapshot')} ${result.present.length === 1 ? 'was' : 'were'} here already`
        : ''),
  );
  return 0;
};

/** A remote snapshot named on the command line: `type/id/time`, or a group for its newest complete one. */
async function remoteSnapshotArg(bucket: Bucket, text: string, signal: AbortSignal): Promise<SnapshotRef> {
  const { listRemoteSnapshots } = await import('../remote/remote-snapshots.js');
  const isGroup = text.split('/').length === 2;
  const wanted = isGroup ? parseGroupPath(text) : parseSnapshotPath(text);
  const done = (await listRemoteSnapshots(bucket, signal)).filter((s) => s.finished);
  const hit = isGroup
    ? done.filter((s) => s.type === wanted.type && s.id === wanted.id).at(-1)
    : done.find((s) => s.path === text);
  if (!hit) throw new CairnError('NOT_FOUND', `${text}: no complete snapshot of that name on ${bucket.name}`);
  return hit;
}

/** The remote's cache with a folder snapshot in it, ready to list (cairn remote ls, cat, restore). */
async function remoteFolder(args: string[], ctx: RemoteCommandContext) {
  const bucket = openBucket(need(args, 0, '<remote>'));
  const ref = await remoteSnapshotArg(bucket, need(args, 1, '<snapshot>'), ctx.signal);
  const { RemoteCache } = await import('../remote/remote-cache.js');
  const cache = await RemoteCache.open(bucket, {
    signal: ctx.signal,
    parallel: parallelOption(ctx.values.parallel),
    log: { info: () => {}, warn: ctx.warn },
    onPrepare: (done, total) => ctx.progress.update({ done, total, label: 'preparing the local cache' }, 'count'),
  });
  try {
    await cache.fetchSnapshot(ref);
    const { readingKey } = await import('./cli-keys.js');
    const folder = await cache.folder(ref, await readingKey(cache.store, [ref], ctx.values));
    return { bucket, cache, ref, folder };
  } catch (err) {
    cache.close();
    throw err;
  }
}

const remoteLs: RemoteCommand = async (args, ctx) => {
  const { bucket, cache, folder } = await remoteFolder(args, ctx);
  try {
    const { entryInfo } = await import('../archive/entry-info.js');
    const entries = folder.list(args[2] ?? '').map(entryInfo);
    const rows = entries.map((e) => [
      e.kind === 'directory' ? 'd' : e.kind === 'symlink' ? 'l' : '-',
      e.kind === 'directory' ? '' : formatBytes(e.size),
      e.mtime.slice(0, 19).replace('T', ' '),
      `${e.name}${e.kind === 'directory' ? '/' : ''}`,
    ]);
    ctx.progress.done();
    ctx.print(entries, rows.length === 0 ? '(empty folder)' : table(rows));
  } finally {
    cache.close();
    bucket.close();
  }
  return 0;
};

const remoteCat: RemoteCommand = async (args, ctx) => {
  const { bucket, cache, folder } = await remoteFolder(args, ctx);
  try {
    const path = need(args, 2, '<path>');
    const file = folder.get(path);
    if (file.kind !== EntryKind.File && file.kind !== EntryKind.Hardlink)
      throw new CairnError('INVALID_ARGUMENT', `${path} is not a file`);
    for await (const slice of cache.fileContent(folder, file)) {
      if (!process.stdout.write(slice)) await new Promise((r) => process.stdout.once('drain', r));
    }
  } finally {
    cache.close();
    bucket.close();
  }
  return 0;
};

const remoteRestore: RemoteCommand = async (args, ctx) => {
  const to = ctx.values.to;
  if (to === undefined) throw new UsageError('missing --to <dir>');
  const { bucket, cache, ref, folder } = await remoteFolder(args, ctx);
  try {
    const { restoreFolder } = await import('../archive/folder-restore.js');
    // The chunks of what is restored are fetched as the restore plans it, ahead of its writers.
    const result = await restoreFolder(cache.store, ref, to, {
      crypt: folder.snapshot.crypt,
      path: args[2],
      overwrite: ctx.values.overwrite,
      keepDamaged: ctx.values['keep-damaged'],
      chunkFeed: cache.chunkFeed(folder),
      signal: ctx.signal,
      log: { info: () => {}, warn: ctx.warn },
    });
    ctx.progress.done();
    ctx.print(
      result,
      `Restored ${plural(result.filesRestored, 'file')} (${formatBytes(result.bytesRestored)}) from ${bucket.name} to ${result.target}`,
    );
    if (result.failedCount > 0)
      throw new CairnError('IO', `${result.failedCount} entries could not be restored (listed above)`);
  } finally {
    cache.close();
    bucket.close();
  }
  return 0;
};

/** `remote prune <remote> <group> --keep-…`: the remote's own retention (the manifest of each goes first). */
const remotePrune: RemoteCommand = async (args, ctx) => {
  const { keepOptions } = await import('./store-commands.js');
  const keep = keepOptions(ctx.values as Parameters<typeof keepOptions>[0]);
  const bucket = openBucket(need(args, 0, '<remote>'));
  const group = parseGroupPath(need(args, 1, '<group>'));
  const dryRun = (ctx.values as { 'dry-run'?: boolean })['dry-run'] === true;
  const { pruneRemoteGroup } = await import('../remote/remote-prune.js');
  const outcomes = await pruneRemoteGroup(bucket, group, keep, { dryRun, signal: ctx.signal });
  bucket.close();
  const word = { kept: 'keep', removed: 'remove', 'would-remove': 'would remove' } as const;
  const removed = outcomes.filter((o) => o.outcome !== 'kept').length;
  const rows = outcomes.map((o) => [word[o.outcome], o.snapshot.path, o.reason]);
  ctx.print(
    { remote: bucket.name, dryRun, removed, snapshots: outcomes },
    `${outcomes.length > 0 ? `${table(rows)}\n` : ''}${dryRun ? 'Dry run: would remove' : 'Removed'} ${plural(removed, 'snapshot')} of ${args[1]} on ${bucket.name}` +
      (removed > 0 && !dryRun ? ` (cairn remote gc ${bucket.name} frees their chunks)` : ''),
  );
  return 0;
};

/** `remote gc <remote>`: frees the chunks no remote snapshot uses; safe while other machines push. */
const remoteGc: RemoteCommand = async (args, ctx) => {
  const bucket = openBucket(need(args, 0, '<remote>'));
  const { collectRemoteGarbage } = await import('../remote/remote-gc.js');
  const r = await collectRemoteGarbage(bucket, { signal: ctx.signal, log: { info: () => {}, warn: ctx.warn } });
  bucket.close();
  ctx.print(
    r,
    r.outcome === 'backed-off'
      ? `GC of ${bucket.name} backed off: ${plural(r.livePushes, 'push')} running; nothing was deleted (${plural(r.requests, 'request')})`
      : `GC of ${bucket.name}: ${plural(r.chunksRemoved, 'chunk')} (${formatBytes(r.bytesRemoved)}) removed of ${r.chunksTotal}, ` +
          `${r.chunksReferenced} in use, ${r.chunksTooYoung} too young to remove yet; ${plural(r.snapshots, 'snapshot')}, ${plural(r.requests, 'request')}`,
  );
  return 0;
};

export const REMOTE_COMMANDS = new Map<string, RemoteCommand>([
  ['remote prune', remotePrune],
  ['remote gc', remoteGc],
  ['remote ls', remoteLs],
  ['remote cat', remoteCat],
  ['remote restore', remoteRestore],
  ['remote add', add],
  ['remote list', list],
  ['remote show', show],
  ['remote check', check],
  ['remote remove', remove],
  ['remote snapshots', snapshots],
  ['push', push],
  ['pull', pull],
]);
