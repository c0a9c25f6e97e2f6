import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { MAX_PLAN_SOURCES } from '../../contract/plans.js';
import { CairnError } from '../errors.js';
import { isSameOrInside } from '../fs/inside-root.js';

/**
 * The sources of one backup with several (a plan's folders and disk images): each once, none inside another,
 * none holding the store, and each with a name of its own in the snapshot.
 */

/** The most sources one backup takes: a plan's limit. */
export const MAX_SOURCES = MAX_PLAN_SOURCES;
/** Longer names could not be restored: most filesystems take 255 bytes a name. */
const MAX_NAME_BYTES = 255;

/** The sources in the order they are named and recorded in: sorted, so that the order they were given in never matters. */
export function sortedSources(paths: readonly string[]): string[] {
  return paths.map((p) => resolve(p)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function realOrResolved(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path); // the backup itself says why it cannot read it
  }
}

/**
 * Refuses a set of sources of which one is given twice or lies inside another (by real paths: its files would
 * be backed up twice), or one of which holds the store (the backup would copy the store into itself).
 */
export function assertSeparateSources(paths: readonly string[], storeRoot: string): void {
  if (paths.length === 0) throw new CairnError('INVALID_ARGUMENT', 'a backup needs at least one source');
  if (paths.length > MAX_SOURCES)
    throw new CairnError('INVALID_ARGUMENT', `a backup takes at most ${MAX_SOURCES} sources (${paths.length} given)`);
  for (const path of paths) {
    if (isSameOrInside(path, storeRoot))
      throw new CairnError(
        'PATH_NOT_ALLOWED',
        `the datastore ${storeRoot} is inside ${path}: a backup would copy the store into itself; back up a folder beside it`,
      );
  }
  const real = paths.map(realOrResolved);
  for (let i = 0; i < real.length; i++) {
    for (let j = 0; j < real.length; j++) {
      if (i === j || !isSameOrBelow(real[j]!, real[i]!)) continue;
      if (real[i] === real[j])
        throw new CairnError('INVALID_ARGUMENT', `${paths[i]} and ${paths[j]} are the same source; give it once`);
      throw new CairnError(
        'INVALID_ARGUMENT',
        `${paths[i]} is inside ${paths[j]}, another source of this backup: its files would be backed up twice; give only ${paths[j]}`,
      );
    }
  }
}

/** Whether the real path `inner` is `outer` or lies below it (both real already: no more lookups). */
function isSameOrBelow(outer: string, inner: string): boolean {
  const rel = relative(outer, inner);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * A name for each source (`paths` sorted, as sortedSources gives them), all different: `nameOf` the path's
 * last component; where two share a name, their parents' names are joined in front (`work-docs`,
 * `home-docs`), then the grandparents', until they differ; a clash left over (`/a-b/c` and `/a/b-c`) is
 * numbered in path order. A function of the set of paths alone, so the same sources get the same names in
 * every backup and incremental backups find their base folders by name.
 */
export function distinctNames(paths: readonly string[], nameOf: (parts: readonly string[]) => string): string[] {
  const parts = paths.map((p) =>
    resolve(p)
      .split(sep)
      .filter((s) => s.length > 0),
  );
  const depth = paths.map(() => 1);
  const nameAt = (i: number, d: number): string => nameOf(parts[i]!.slice(-d)) || 'root';
  for (;;) {
    const names = paths.map((_, i) => nameAt(i, depth[i]!));
    const longer = names.flatMap((name, i) =>
      names.indexOf(name) !== names.lastIndexOf(name) &&
      depth[i]! < parts[i]!.length &&
      Buffer.byteLength(nameAt(i, depth[i]! + 1)) <= MAX_NAME_BYTES
        ? [i]
        : [],
    );
    if (longer.length === 0) return numbered(names);
    for (const i of longer) depth[i] = depth[i]! + 1;
  }
}

/** The names with every repeat after the first numbered (`docs-2`), skipping numbers whose name is taken. */
function numbered(names: readonly string[]): string[] {
  const taken = new Set(names);
  const seen = new Set<string>();
  return names.map((name) => {
    if (!seen.has(name)) {
      seen.add(name);
      return name;
    }
    let n = 2;
    while (taken.has(`${name}-${n}`)) n++;
    const unique = `${name}-${n}`;
    taken.add(unique);
    seen.add(unique);
    return unique;
  });
}
