import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionRequest, ActionResponse } from '../contract/actions.js';
import type { RemoteSnapshotRow } from '../contract/remotes.js';
import { snapshotKind } from '../core/backup/manifest-summary.js';
import { MANIFEST_NAME } from '../core/backup/manifest.js';
import type { CryptConfig } from '../core/blob/crypt-config.js';
import { keyForSnapshot } from '../core/datastore/snapshot-key.js';
import { snapshotPath } from '../core/backup/backup-names.js';
import { Bucket } from '../core/remote/bucket.js';
import { RemoteCache } from '../core/remote/remote-cache.js';
import { listRemoteSnapshots } from '../core/remote/remote-snapshots.js';
import { AppError } from './app-errors.js';
import { INTERACTIVE_ATTEMPTS, type RemoteAccess } from './host-remotes.js';
import { browseFolder, openStore } from './store-views.js';

export const REMOTE_QUERY_ACTIONS = ['remotes.snapshots', 'remote.browse'] as const;
type RemoteQueryAction = (typeof REMOTE_QUERY_ACTIONS)[number];

export type RemoteQueries = {
  [K in RemoteQueryAction]: (
    req: ActionRequest<K>,
    keys: readonly CryptConfig[],
    access?: RemoteAccess,
  ) => Promise<ActionResponse<K>>;
};

/**
 * Reading remotes on the query worker: a listing (one request per backup type and page, never of `.chunks/`), and
 * browsing through the remote's cache (remote-cache.ts), which fetches a snapshot's manifest and indexes once and
 * of its data only the metadata stream. One browse of a remote at a time: its cache has one reader.
 */
export function createRemoteQueries(): RemoteQueries {
  const queue = new Map<string, Promise<unknown>>();
  const oneAtATime = <T>(remote: string, run: () => Promise<T>): Promise<T> => {
    const next = (queue.get(remote) ?? Promise.resolve()).then(run, run);
    queue.set(
      remote,
      next.catch(() => undefined),
    );
    return next;
  };
  return {
    'remotes.snapshots': ({ remote, store }, _keys, access) =>
      withBucket(access, async (bucket) => {
        const listed = await listRemoteSnapshots(bucket);
        const local = store === undefined ? undefined : openStore(store);
        const snapshots = listed.map((s): RemoteSnapshotRow => ({
          type: s.type,
          id: s.id,
          time: s.time,
          path: s.path,
          finished: s.finished,
          kind: snapshotKind(s.files.map((f) => f.name)),
          local: local !== undefined && existsSync(join(local.snapshotDir(s), MANIFEST_NAME)),
        }));
        return { remote, snapshots, requests: bucket.requests };
      }),
    'remote.browse': ({ remote, snapshot, path, offset, limit }, keys, access) =>
      oneAtATime(remote, () =>
        withBucket(access, async (bucket) => {
          const cache = await RemoteCache.open(bucket, { waitMs: 2000 });
          try {
            await cache.fetchSnapshot(snapshot);
            const crypt = keyForSnapshot(cache.store.readManifest(snapshot), keys, snapshotPath(snapshot));
            return browseFolder(await cache.folder(snapshot, crypt), path, offset, limit);
          } finally {
            cache.close({ trim: false });
          }
        }),
      ),
  };
}

async function withBucket<T>(access: RemoteAccess | undefined, run: (bucket: Bucket) => Promise<T>): Promise<T> {
  if (!access) throw new AppError('INTERNAL', 'a remote query came without its remote');
  const bucket = new Bucket(access.remote, access.credentials, { maxAttempts: INTERACTIVE_ATTEMPTS });
  try {
    return await run(bucket);
  } finally {
    bucket.close();
  }
}
