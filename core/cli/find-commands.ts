import { findEntries, type FindQuery } from '../archive/find-entries.js';
import { FolderArchiveReader } from '../archive/folder-reader.js';
import { pathVersions } from '../archive/path-versions.js';
import { parseGroupPath, parseSnapshotPath, snapshotPath, type SnapshotRef } from '../backup/backup-names.js';
import type { Datastore } from '../datastore/datastore.js';
import type { CryptConfig } from '../blob/crypt-config.js';
import { CairnError, isCairnError } from '../errors.js';
import { formatBytes, plural } from '../../contract/format.js';
import { readingKey, type KeyValues } from './cli-keys.js';
import { parseSize, table } from './format.js';
import { openStore } from './open-store.js';
import { need, type CommandContext } from './store-commands.js';
import { UsageError } from './usage-error.js';

/**
 * `cairn versions` (every version of a path across a group's snapshots) and `cairn find` (entries by name, size
 * and date in a snapshot or across a group's snapshots), starting from the file rather than the snapshot.
 */
export interface FindCommandContext extends Omit<CommandContext, 'values'> {
  values: KeyValues & { size?: string; newer?: string; older?: string; json?: boolean };
}

type FindCommand = (args: string[], ctx: FindCommandContext) => Promise<number>;

const when = (ms: number | undefined) =>
  ms === undefined ? '' : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

const versions: FindCommand = async (args, ctx) => {
  const store = openStore(need(args, 0, '<store>'));
  const group = parseGroupPath(need(args, 1, '<group>'));
  const path = need(args, 2, '<path>');
  if (args.length > 3) throw new UsageError(`unexpected ${JSON.stringify(args[3])} after the path`);
  const refs = store.listSnapshots(group).filter((s) => s.finished && FolderArchiveReader.hasFolderArchive(s.files));
  const key = await readingKey(store, refs, ctx.values);
  const result = pathVersions(store, group, path, { keys: key });
  const rows = [
    ['FROM', 'TO', 'SNAPSHOTS', 'STATE', 'SIZE', 'MTIME'],
    ...result.versions.map((v) => [
      v.from,
      v.to === v.from ? '' : v.to,
      String(v.snapshots),
      v.state === 'absent' ? 'absent' : `${v.kind}${v.changed ? ', changed' : ''}`,
      v.size === undefined ? '' : formatBytes(v.size),
      when(v.mtime),
    ]),
  ];
  for (const u of result.unreadable) ctx.warn(`${u.snapshot}: ${u.message}`);
  const present = result.versions.filter((v) => v.state === 'present').length;
  ctx.print(
    result,
    result.versions.length === 0
      ? `No folder snapshots in ${args[1]}.`
      : `${table(rows)}\n${plural(present, 'version')} of ${path} in ${plural(refs.length, 'snapshot')}`,
  );
  // As find: a script must see that snapshots it could not read may hold versions not listed.
  return result.unreadable.length > 0 ? 3 : 0;
};

/** --size +10M (at least), -1M (at most), 10M..20M, or 5M (exactly). */
function sizeQuery(text: string | undefined): Pick<FindQuery, 'minSize' | 'maxSize'> {
  if (text === undefined) return {};
  const size = (t: string): number => {
    const n = parseSize(t);
    if (n === undefined)
      throw new UsageError(`--size takes +10M (at least), -1M (at most) or 1M..5M, not ${JSON.stringify(text)}`);
    return n;
  };
  if (text.includes('..')) {
    const [a, b] = text.split('..');
    return { minSize: size(a!), maxSize: size(b!) };
  }
  if (text.startsWith('+')) return { minSize: size(text.slice(1)) };
  if (text.startsWith('-')) return { maxSize: size(text.slice(1)) };
  const n = size(text);
  return { minSize: n, maxSize: n };
}

/** --newer / --older: a date (2026-11-01, or with a time) or an age (7d, 12h, 30m). */
function timeQuery(flag: string, text: string | undefined, now = Date.now()): number | undefined {
  if (text === undefined) return undefined;
  const age = /^([0-9]+)([dhm])$/.exec(text);
  if (age) return now - Number(age[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[age[2] as 'd' | 'h' | 'm'];
  const ms = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms))
    throw new UsageError(`--${flag} takes a date (2026-11-01) or an age (7d, 12h, 30m), not ${JSON.stringify(text)}`);
  return ms;
}

const find: FindCommand = async (args, ctx) => {
  const query: FindQuery = {
    pattern: '',
    ...sizeQuery(ctx.values.size),
    newerThan: timeQuery('newer', ctx.values.newer),
    olderThan: timeQuery('older', ctx.values.older),
  };
  const store = openStore(need(args, 0, '<store>'));
  const target = need(args, 1, '<group|snapshot>');
  query.pattern = need(args, 2, '<pattern>');
  if (args.length > 3) throw new UsageError(`unexpected ${JSON.stringify(args[3])} after the pattern (quote a glob)`);
  const refs = snapshotsOf(store, target);
  const key = await readingKey(store, refs, ctx.values);
  const seen = new Map<string, { snapshot: string; snapshots: number }>();
  const found: { snapshot: string; path: string; kind: string; size: number; mtime: number }[] = [];
  const unsearched: Unsearched[] = [];
  for (const ref of refs) {
    const reader = openToSearch(store, ref, key, refs.length > 1, ctx, unsearched);
    if (!reader) continue;
    for (const hit of findEntries(reader, query, ctx.signal)) {
      const earlier = seen.get(hit.path);
      if (earlier) {
        earlier.snapshots++;
        continue;
      }
      seen.set(hit.path, { snapshot: reader.snapshot.path, snapshots: 1 });
      found.push({ snapshot: reader.snapshot.path, ...hit });
      // Results stream out as they are found (one line each); --json prints them all at the end.
      if (!ctx.values.json)
        process.stdout.write(
          `${reader.snapshot.path}  ${hit.path}${hit.kind === 'directory' ? '/' : ''}  ${formatBytes(hit.size)}  ${when(hit.mtime)}\n`,
        );
    }
  }
  const searched = refs.length - unsearched.length;
  const summary =
    `${plural(found.length, 'match', 'matches')} in ${plural(searched, 'snapshot')}` +
    (unsearched.length > 0 ? `; ${plural(unsearched.length, 'snapshot')} not searched (named above)` : '');
  if (ctx.values.json)
    ctx.print(
      { matches: found.map((f) => ({ ...f, snapshots: seen.get(f.path)!.snapshots })), searched, unsearched },
      '',
    );
  else process.stderr.write(`${summary}\n`);
  // As a backup that left entries out: a script must see that "no match" may not mean "not there".
  return unsearched.length > 0 ? 3 : 0;
};

/** A snapshot of the group that could not be read, so its matches are not in the result. */
interface Unsearched {
  snapshot: string;
  code: string;
  message: string;
}

/**
 * The snapshot opened for a search; in a search across a group, undefined for one that cannot be opened (its
 * key not given, a damaged index), said as a warning: the group's other snapshots are still searched.
 */
function openToSearch(
  store: Datastore,
  ref: SnapshotRef,
  key: CryptConfig | undefined,
  acrossGroup: boolean,
  ctx: FindCommandContext,
  unsearched: Unsearched[],
): FolderArchiveReader | undefined {
  try {
    return new FolderArchiveReader(store.openSnapshot(ref, { crypt: key }));
  } catch (err) {
    if (!acrossGroup || !isCairnError(err)) throw err;
    unsearched.push({ snapshot: snapshotPath(ref), code: err.code, message: err.message });
    ctx.warn(`not searched: ${err.message}${err.code === 'KEY_REQUIRED' ? ' (--keyfile FILE)' : ''}`);
    return undefined;
  }
}

/** A snapshot path: that one; a group: all its finished folder snapshots, newest first (a path shows its newest). */
function snapshotsOf(store: Datastore, text: string): SnapshotRef[] {
  if (text.split('/').length !== 2) {
    const ref = parseSnapshotPath(text);
    store.readManifest(ref);
    return [ref];
  }
  const group = parseGroupPath(text);
  const refs = store
    .listSnapshots(group)
    .filter((s) => s.finished && FolderArchiveReader.hasFolderArchive(s.files))
    .reverse();
  if (refs.length === 0) throw new CairnError('NOT_FOUND', `group ${text} has no finished folder snapshot`);
  return refs;
}

export const FIND_COMMANDS = new Map<string, FindCommand>([
  ['versions', versions],
  ['find', find],
]);
