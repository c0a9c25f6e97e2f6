import type { ActionRequest, ActionResponse } from '../contract/actions.js';
import type { InPlacePreview } from '../contract/find.js';
import type { SnapshotRef } from '../contract/model.js';
import { nearestExisting, recordedSources } from '../core/archive/in-place.js';
import { snapshotPath } from '../core/backup/backup-names.js';
import type { Datastore } from '../core/datastore/datastore.js';
import { snapshotCryptMode } from '../core/datastore/snapshot-key.js';
import { AppError } from './app-errors.js';
import { isInside, type PathPolicy } from './path-policy.js';
import type { QueryRunner } from './query-runner.js';
import type { SearchRunner } from './search-runner.js';

export type FindAction =
  'search.start' | 'search.cancel' | 'path.history' | 'snapshot.preview' | 'restore.in-place-preview';
type FindHandlers = {
  [K in FindAction]: (req: ActionRequest<K>) => ActionResponse<K> | Promise<ActionResponse<K>>;
};

export interface FindHostContext {
  /** An existing store at a checked path. */
  store(path: string): Datastore;
  queries: QueryRunner;
  searches: SearchRunner;
  /** The raw bytes of the unlocked keys, for a worker thread. */
  keys(): Buffer[];
  /** KEY_REQUIRED (naming the key) when the snapshot is encrypted with a locked key. */
  assertReadable(store: Datastore, ref: SnapshotRef): void;
  policy: PathPolicy;
}

/**
 * The actions that start from a file: searches on threads of their own, history, previews and the in-place
 * preview on the query worker. The folders an in-place restore writes to are the ones the snapshot records, each
 * checked by the path policy here.
 */
export function findHandlers(ctx: FindHostContext): FindHandlers {
  return {
    'search.start': (req) => ctx.searches.start({ ...req, store: ctx.store(req.store).root }, ctx.keys()),
    'search.cancel': ({ searchId }) => {
      ctx.searches.cancel(searchId);
      return null;
    },
    'path.history': (req) => ctx.queries.run('path.history', { ...req, store: ctx.store(req.store).root }, ctx.keys()),
    'snapshot.preview': (req) =>
      ctx.queries.run('snapshot.preview', { ...req, store: ctx.store(req.store).root }, ctx.keys()),
    'restore.in-place-preview': async (req): Promise<InPlacePreview> => {
      const store = ctx.store(req.store);
      const refusal = inPlaceRefusal(store, req.snapshot);
      if (refusal) return refusal;
      checkInPlaceSources(ctx.policy, store, req.snapshot);
      ctx.assertReadable(store, req.snapshot);
      return ctx.queries.run('restore.in-place-preview', { ...req, store: store.root }, ctx.keys());
    },
  };
}

/** Why a snapshot cannot go back where it came from: it records no folder (an encrypted one never does). */
export function inPlaceRefusal(
  store: Datastore,
  ref: SnapshotRef,
): Extract<InPlacePreview, { refused: string }> | undefined {
  const manifest = store.readManifest(ref);
  if (recordedSources(manifest)) return undefined;
  if (snapshotCryptMode(manifest) === 'encrypt')
    return {
      refused: 'encrypted',
      message:
        `${snapshotPath(ref)} is encrypted, and an encrypted snapshot does not record the folder it was backed up ` +
        'from (its manifest is readable without the key, so it names none). Restore it into a folder you choose instead.',
    };
  return {
    refused: 'no-source',
    message: `${snapshotPath(ref)} does not record the folder it was backed up from. Restore it into a folder you choose instead.`,
  };
}

/**
 * The folders a snapshot records, each one Cairn may write to (the path policy) and none inside the store; the
 * renderer never names them, so they are checked here before any preview or restore.
 */
export function checkInPlaceSources(policy: PathPolicy, store: Datastore, ref: SnapshotRef): string[] {
  const refusal = inPlaceRefusal(store, ref);
  if (refusal) throw new AppError('INVALID_ARGUMENT', refusal.message);
  return recordedSources(store.readManifest(ref))!.map((s) => {
    const place = policy.check(s.path, 'original folder');
    if (isInside(place, store.root)) throw new AppError('PATH_NOT_ALLOWED', `${place} is inside the datastore`);
    // A folder that is gone is staged for in its nearest parent that exists: Cairn must be allowed there too.
    policy.check(nearestExisting(place), `the folder holding ${place} (it is not there: the restore starts above it)`);
    return place;
  });
}
