import type { ActionName, ActionRequest, ActionResponse } from '../contract/actions.js';
import type { JobState, StartableJobSpec } from '../contract/jobs.js';
import { snapshotPath } from '../core/backup/backup-names.js';
import { AppError } from './app-errors.js';
import type { HostRemotes } from './host-remotes.js';
import type { JobEngine } from './job-engine.js';
import type { PathPolicy } from './path-policy.js';
import type { QueryRunner } from './query-runner.js';

export type RemoteAction = Extract<ActionName, `remotes.${string}` | `remote.${string}`>;
type RemoteHandlers = {
  [K in RemoteAction]: (req: ActionRequest<K>) => ActionResponse<K> | Promise<ActionResponse<K>>;
};
export type RemoteJobSpec = Extract<StartableJobSpec, { kind: 'push' | 'pull' | 'remote-restore' }>;

export interface RemoteHostContext {
  /** The host's remotes; absent where it keeps no config folder. */
  remotes: HostRemotes | undefined;
  /** The checked path of an existing store. */
  storePath(path: string): string;
  /** Remote queries go to a worker of their own: a slow service never holds up a local listing. */
  queries: QueryRunner;
  /** The raw bytes of the unlocked keys (an encrypted remote snapshot is read with them). */
  keys(): Buffer[];
  engine: JobEngine;
  policy: PathPolicy;
}

function remotesOf(ctx: RemoteHostContext): HostRemotes {
  if (!ctx.remotes) throw new AppError('NOT_AVAILABLE', 'this host keeps no remotes');
  return ctx.remotes;
}

/** The remote actions: settings and credentials through HostRemotes, listings and browsing on the remote worker. */
export function remoteHandlers(ctx: RemoteHostContext): RemoteHandlers {
  return {
    'remotes.list': () => ctx.remotes?.list() ?? [],
    'remotes.add': ({ name, settings, credentials }) => remotesOf(ctx).add(name, settings, credentials),
    'remotes.update': ({ name, settings, credentials }) => remotesOf(ctx).update(name, settings, credentials),
    'remotes.remove': ({ name }) => {
      remotesOf(ctx).remove(name);
      return null;
    },
    'remotes.check': (req) => remotesOf(ctx).check(req),
    'remotes.snapshots': ({ remote, store }) =>
      ctx.queries.run(
        'remotes.snapshots',
        { remote, ...(store === undefined ? {} : { store: ctx.storePath(store) }) },
        undefined,
        remotesOf(ctx).access(remote),
      ),
    'remote.browse': (req) => ctx.queries.run('remote.browse', req, ctx.keys(), remotesOf(ctx).access(req.remote)),
  };
}

function which(spec: { group?: { type: string; id: string }; snapshot?: Parameters<typeof snapshotPath>[0] }) {
  if (spec.snapshot) return snapshotPath(spec.snapshot);
  return spec.group ? `${spec.group.type}/${spec.group.id}` : 'the store';
}

/** Push, pull and a remote restore as jobs: the remote's credentials go to the job's thread, never into its state. */
export function startRemoteJob(spec: RemoteJobSpec, ctx: RemoteHostContext): JobState {
  const access = remotesOf(ctx).access(spec.remote);
  switch (spec.kind) {
    case 'push': {
      const store = ctx.storePath(spec.store);
      return ctx.engine.start({ ...spec, store }, `Push ${which(spec)} to ${spec.remote}`, store, undefined, access);
    }
    case 'pull': {
      const store = ctx.storePath(spec.store);
      const what = spec.snapshot || spec.group ? which(spec) : 'everything';
      return ctx.engine.start({ ...spec, store }, `Pull ${what} from ${spec.remote}`, store, undefined, access);
    }
    case 'remote-restore': {
      const target = ctx.policy.check(spec.target, 'restore target');
      const what = spec.paths.length === 1 ? spec.paths[0] || 'everything' : `${spec.paths.length} items`;
      const title = `Restore ${what} of ${snapshotPath(spec.snapshot)} from ${spec.remote} to ${target}`;
      return ctx.engine.start({ ...spec, target }, title, `remote ${spec.remote}`, ctx.keys(), access);
    }
  }
}
