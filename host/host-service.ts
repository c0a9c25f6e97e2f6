import { lstatSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { homedir } from 'node:os';
import type { ActionName, ActionRequest, ActionResponse } from '../contract/actions.js';
import type { Result } from '../contract/errors.js';
import type { HostEventName, HostEvents } from '../contract/events.js';
import type { JobKind, JobState, StartableJobSpec } from '../contract/jobs.js';
import type { AppInfo, RestorePreviewResult, SnapshotRef, SourceCheck } from '../contract/model.js';
import { imageFileName } from '../contract/image-file-name.js';
import { validateRequest } from '../contract/validators.js';
import { assertBackupId, snapshotPath } from '../core/backup/backup-names.js';
import { describeSource } from '../core/datastore/group-source.js';
import { isCairnError, KeyRequiredError } from '../core/errors.js';
import { pickImageArchive } from '../core/image/image-archive.js';
import { forgetSnapshot } from '../core/prune/forget.js';
import { AppError, toAppError } from './app-errors.js';
import { listFolder, makeFolder } from './folder-listing.js';
import { JobEngine, type JobEngineOptions } from './job-engine.js';
import { defaultAllowedRoots, isInside, PathPolicy } from './path-policy.js';
import { JobHistory } from './job-history.js';
import { HostPlans } from './host-plans.js';
import { StoreDashboards } from './store-dashboard.js';
import { RecentStores } from './recent-stores.js';
import { StoreWatcher } from './store-watcher.js';
import { QueryRunner } from './query-runner.js';
import { lastGc, openStore, SnapshotViews, storeSummary } from './store-views.js';
import { HostKeys } from './host-keys.js';
import type { SecretStore } from './remembered-keys.js';
import type { BackupEncryption, KeyRow } from '../contract/keys.js';
import { CryptConfig } from '../core/blob/crypt-config.js';
import type { Datastore } from '../core/datastore/datastore.js';
import { snapshotCryptMode, snapshotKeyFingerprint } from '../core/datastore/snapshot-key.js';
import { HostRemotes } from './host-remotes.js';
import { remoteHandlers, startRemoteJob, type RemoteAction, type RemoteHostContext } from './remote-handlers.js';
import { checkInPlaceSources, findHandlers, type FindAction } from './find-handlers.js';
import { SearchRunner } from './search-runner.js';

/** What differs between hosts: native dialogs exist in Electron only. */
export interface HostPlatform {
  host: AppInfo['host'];
  pickFolder?(title: string, defaultPath?: string): Promise<string | null>;
  pickFile?(title: string, defaultPath?: string): Promise<string | null>;
  pickSaveFile?(suggestedName: string, title?: string): Promise<string | null>;
}

export interface HostServiceOptions {
  platform: HostPlatform;
  /** Where recent stores and the finished jobs are remembered. */
  dataDir: string;
  allowedRoots?: string[];
  version?: string;
  jobs?: JobEngineOptions;
  /** How often the open store is checked for changes by other processes (default 2 s). */
  storePollMs?: number;
  /**
   * The user's config folder (cairnConfigDir()) with the backup plans: given, this host runs the user's
   * scheduler (or stands by for the one that runs); absent (tests of other things), plans are not available.
   */
  plans?: { configDir: string; where: string; onBattery?: () => boolean };
  /**
   * Where the key files are known (the config folder's keys/) and what seals remembered keys (the desktop app's
   * OS keychain; none in browser mode). Absent (tests of other things): no key ring, encrypted snapshots stay locked.
   */
  keys?: { configDir: string; secretStore?: SecretStore };
}

/** Jobs after which the store's listings change (a snapshot added or removed, verify states, GC status). */
const CHANGES_STORE: ReadonlySet<JobKind> = new Set([
  'backup',
  'backup-image',
  'gc',
  'verify',
  'prune',
  'delete-group',
  'plan-run',
  'pull',
]);

/** A disk image must be a regular file: a folder is backed up with the folder backup. */
function assertRegularFile(path: string): void {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new AppError('NOT_FOUND', `${path} does not exist`);
  if (st.isDirectory())
    throw new AppError('INVALID_ARGUMENT', `${path} is a folder: back it up with “Back up a folder…”`);
  if (!st.isFile()) throw new AppError('INVALID_ARGUMENT', `${path} is not a regular file`);
}

type PlanAction = Extract<ActionName, `plans.${string}` | 'scheduler.info'>;
/** The native dialogs, which only the desktop host has. */
type DialogAction = Extract<ActionName, `dialog.${string}`>;
type KeyAction = Extract<ActionName, `keys.${string}`>;
type Handlers = { [K in ActionName]: (req: ActionRequest<K>) => ActionResponse<K> | Promise<ActionResponse<K>> };
type Listener = <K extends HostEventName>(event: K, payload: HostEvents[K]) => void;

/**
 * The one service both hosts expose: every action's handler, validated requests, typed errors, and the job
 * engine's events. Electron main wires it to ipcMain, browser mode to HTTP; neither adds behaviour of its own.
 */
export class HostService {
  readonly policy: PathPolicy;
  readonly engine: JobEngine;
  private readonly recent: RecentStores;
  private readonly views = new SnapshotViews();
  private readonly queries = new QueryRunner();
  /** Scans of every chunk folder get a worker of their own, so they never hold up a listing or a browse. */
  private readonly scans = new QueryRunner();
  private readonly listeners = new Set<Listener>();
  private readonly handlers: Handlers;
  private readonly watcher: StoreWatcher;
  private readonly plans: HostPlans | undefined;
  private readonly dashboards: StoreDashboards;
  private readonly keys: HostKeys | undefined;
  /** Remotes (off-site copies): their settings and credentials, and a query worker of their own. */
  private readonly remotes: HostRemotes | undefined;
  private readonly remoteQueries = new QueryRunner();
  /** Searches, each on a thread of its own; their news goes out as `search.update` events. */
  private readonly searches = new SearchRunner((update) => this.emit('search.update', update));

  constructor(private readonly options: HostServiceOptions) {
    this.policy = new PathPolicy(options.allowedRoots ?? defaultAllowedRoots());
    this.recent = new RecentStores(options.dataDir);
    this.engine = new JobEngine((event, payload) => this.onEngineEvent(event, payload), {
      history: new JobHistory(options.dataDir),
      ...options.jobs,
    });
    this.plans = options.plans && this.createPlans(options.plans);
    this.dashboards = new StoreDashboards(options.plans?.configDir, this.queries, this.scans);
    this.keys = options.keys && new HostKeys(options.keys.configDir, options.keys.secretStore);
    this.keys?.unlockRemembered();
    this.remotes = this.createRemotes();
    this.handlers = {
      ...this.createHandlers(),
      ...this.dialogHandlers(),
      ...this.planHandlers(),
      ...remoteHandlers(this.remoteContext()),
      ...findHandlers({
        store: (path) => this.store(path),
        queries: this.queries,
        searches: this.searches,
        keys: () => this.unlockedKeys(),
        assertReadable: (store, ref) => this.assertReadable(store, ref),
        policy: this.policy,
      }),
      ...keyHandlers(
        () => this.keyRing(),
        () => this.policy,
        (row) => {
          if (row.fingerprint) this.plans?.keyUnlocked(row.fingerprint);
        },
      ),
    };
    this.watcher = new StoreWatcher((store) => this.emit('store.changed', { store }), options.storePollMs);
  }

  /** Validates and runs one action; never throws. */
  async handle(action: string, payload: unknown): Promise<Result<unknown>> {
    const valid = validateRequest(action as ActionName, payload);
    if (!valid.ok) return { ok: false, error: { code: 'BAD_REQUEST', message: valid.message } };
    try {
      const handler = this.handlers[action as ActionName] as (req: unknown) => unknown;
      return { ok: true, value: await handler(valid.value) };
    } catch (err) {
      return { ok: false, error: toAppError(err) };
    }
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Unlocks the keys remembered on this computer that the secret store opens (again: once it is ready). */
  unlockRememberedKeys(): number {
    return this.keys?.unlockRemembered() ?? 0;
  }

  /** Starts the user's scheduler (or its standby), if this host has plans. */
  startScheduler(): void {
    this.plans?.start();
  }

  /** Whether the user has backup plans; a plans file that cannot be read counts as yes (they are to be fixed). */
  hasPlans(): boolean {
    try {
      return (this.plans?.count() ?? 0) > 0;
    } catch {
      return true;
    }
  }

  /** Makes the scheduler look at its plans now (a resume from sleep, a change of power source). */
  wakeScheduler(): void {
    this.plans?.wake();
  }

  /** Cancels running jobs and waits for them to clean up. */
  async shutdown(): Promise<JobState[]> {
    this.watcher.stop();
    await this.plans?.stop();
    const jobs = await this.engine.cancelAll();
    await Promise.all([this.queries.close(), this.scans.close(), this.remoteQueries.close(), this.searches.close()]);
    return jobs;
  }

  private emit<K extends HostEventName>(event: K, payload: HostEvents[K]): void {
    if (event === 'store.changed') this.watcher.settle((payload as HostEvents['store.changed']).store);
    for (const listener of this.listeners) listener(event, payload);
  }

  private onEngineEvent<K extends HostEventName>(event: K, payload: HostEvents[K]): void {
    this.emit(event, payload);
    if (event !== 'job.done') return;
    const job = payload as JobState;
    if (CHANGES_STORE.has(job.kind)) this.emit('store.changed', { store: job.store });
    this.dashboards.sampleAfter(job, (store) => this.emit('store.changed', { store }));
    if (job.kind === 'create-store' && job.status === 'done') this.recent.add(job.store);
  }

  /**
   * How a browser download ended, for the tasks panel: a download cut short by a damaged chunk shows as a failed
   * task naming the chunk (the browser itself only says "failed").
   */
  reportDownload(
    store: string,
    snapshot: SnapshotRef,
    path: string,
    outcome: { bytes: number } | { error: unknown },
  ): void {
    const title = `Download of ${path} from ${snapshotPath(snapshot)}`;
    const times = { startedAt: Date.now(), endedAt: Date.now() };
    if ('error' in outcome) {
      const error = toAppError(outcome.error);
      this.engine.recordFinished({
        kind: 'export-file',
        title,
        store,
        status: 'failed',
        ...times,
        error: {
          code: error.code,
          message: `${error.message}. The download was cut short; nothing else of the snapshot is affected (verify the store to see what else the chunk holds).`,
        },
      });
    } else {
      this.engine.recordFinished({
        kind: 'export-file',
        title,
        store,
        status: 'done',
        ...times,
        result: { kind: 'download', path, bytes: outcome.bytes },
      });
    }
  }

  private keyRing(): HostKeys {
    if (!this.keys) throw new AppError('NOT_AVAILABLE', 'this host keeps no encryption keys');
    return this.keys;
  }

  /** The raw bytes of the unlocked keys, for a job's or a query's thread in this process. */
  private unlockedKeys(): Buffer[] {
    return this.keys?.rawKeys() ?? [];
  }

  /** The unlocked keys, for reading on this thread (browser mode's downloads). */
  readingKeys(): CryptConfig[] {
    return this.unlockedKeys().map((raw) => {
      const crypt = new CryptConfig(raw); // holds a copy of its own
      raw.fill(0);
      return crypt;
    });
  }

  /**
   * Refuses at once (KEY_REQUIRED, naming the key) a job that reads an encrypted snapshot whose key is locked,
   * so the app can ask for the key and start the job again, rather than the job failing later.
   */
  private assertReadable(store: Datastore, ref: SnapshotRef): void {
    const manifest = store.readManifest(ref);
    if (snapshotCryptMode(manifest) !== 'encrypt') return;
    const fingerprint = snapshotKeyFingerprint(manifest);
    if (fingerprint !== undefined && this.keys?.isUnlocked(fingerprint)) return;
    throw new KeyRequiredError(fingerprint, `${snapshotPath(ref)} is encrypted: unlock its key to read it`);
  }

  /** A backup's key (which must be unlocked), or none; a plain backup into an encrypted group is refused now. */
  private backupKeys(store: Datastore, id: string, encrypt: BackupEncryption | undefined): Buffer[] | undefined {
    if (encrypt) return [this.keyRing().rawKey(encrypt.keyFingerprint)];
    store.assertGroupEncryption({ type: 'host', id }, undefined);
    return undefined;
  }

  private store(path: string) {
    return openStore(this.policy.check(path, 'datastore'));
  }

  /** The checked path of an existing store, for queries that open it in the worker. */
  private storePath(path: string): string {
    return this.store(path).root;
  }

  /** Whether `host/<id>` may take `source` (a folder, or an image file): the same check the backup makes, asked before it starts. */
  private checkBackupSource(
    storePath: string,
    sourcePath: string,
    id: string,
    kind: 'folder' | 'image' = 'folder',
  ): SourceCheck {
    const store = this.store(storePath);
    const source = this.policy.check(sourcePath, kind === 'image' ? 'disk image to back up' : 'folder to back up');
    const group = { type: 'host' as const, id: assertBackupId(id) };
    try {
      store.assertGroupSource(group, [source]);
      return { matches: true };
    } catch (err) {
      if (!isCairnError(err, 'SOURCE_MISMATCH')) throw err;
      const recorded = store.groupSource(group);
      return {
        matches: false,
        recorded: recorded && describeSource(recorded),
        suggestedId: store.suggestGroupId(group, source),
      };
    }
  }

  private startJob(spec: StartableJobSpec): JobState {
    switch (spec.kind) {
      case 'create-store': {
        const path = this.policy.check(spec.path, 'datastore folder');
        return this.engine.start({ ...spec, path }, `Create datastore ${path}`, path);
      }
      case 'backup':
        return this.startFolderBackup(spec);
      case 'restore':
        return this.startRestore(spec);
      case 'backup-image':
        return this.startImageBackup(spec);
      case 'restore-image':
        return this.startImageRestore(spec);
      case 'gc': {
        const store = this.store(spec.store).root;
        return this.engine.start({ ...spec, store }, `Garbage collection of ${store}`, store);
      }
      case 'prune': {
        const store = this.store(spec.store).root; // the keep rules were checked with the request (keep-rules.ts)
        return this.engine.start({ ...spec, store }, `Prune ${spec.group.type}/${spec.group.id}`, store);
      }
      case 'delete-group':
        return this.startDeleteGroup(spec);
      case 'verify':
        return this.startVerify(spec);
      case 'push':
      case 'pull':
      case 'remote-restore':
        return startRemoteJob(spec, this.remoteContext());
      case 'restore-in-place':
        return this.startInPlaceRestore(spec);
      case 'export-file':
        return this.startExport(spec);
    }
  }

  /** A folder backup, refused early when the store lies inside the source or the group records another source. */
  private startFolderBackup(spec: Extract<StartableJobSpec, { kind: 'backup' }>): JobState {
    const store = this.store(spec.store).root;
    const source = this.policy.check(spec.source, 'folder to back up');
    assertBackupId(spec.id);
    if (isInside(store, source)) {
      throw new AppError(
        'PATH_NOT_ALLOWED',
        `the datastore ${store} is inside ${source}: a backup would copy the store into itself`,
      );
    }
    // Refused here already, so the dialog can offer the choice; the backup checks again under its lock.
    const keys = this.backupKeys(this.store(spec.store), spec.id, spec.encrypt);
    if (!spec.allowOtherSource) this.store(spec.store).assertGroupSource({ type: 'host', id: spec.id }, [source]);
    return this.engine.start({ ...spec, store, source }, `Backup of ${source}`, store, keys);
  }

  /** What the restore dialog's restore would meet in its target: checked as the restore itself is. */
  private previewRestore(req: ActionRequest<'restore.preview'>): Promise<RestorePreviewResult> {
    const store = this.store(req.store);
    const target = this.restoreTarget(store.root, req.target);
    this.assertReadable(store, req.snapshot);
    return this.queries.run('restore.preview', { ...req, store: store.root, target }, this.unlockedKeys());
  }

  private restoreTarget(store: string, asked: string): string {
    const target = this.policy.check(asked, 'restore target');
    if (isInside(target, store)) throw new AppError('PATH_NOT_ALLOWED', `cannot restore into the datastore ${store}`);
    return target;
  }

  /** A restore of chosen paths into a folder the policy allows, outside the store. */
  private startRestore(spec: Extract<StartableJobSpec, { kind: 'restore' }>): JobState {
    const store = this.store(spec.store).root;
    const target = this.restoreTarget(store, spec.target);
    const what = spec.paths.length === 1 ? spec.paths[0] || 'everything' : `${spec.paths.length} items`;
    this.assertReadable(this.store(store), spec.snapshot);
    return this.engine.start(
      { ...spec, store, target },
      `Restore ${what} of ${snapshotPath(spec.snapshot)} to ${target}`,
      store,
      this.unlockedKeys(),
    );
  }

  /** Deletes a group that exists. */
  private startDeleteGroup(spec: Extract<StartableJobSpec, { kind: 'delete-group' }>): JobState {
    const ds = this.store(spec.store);
    const group = { type: spec.group.type, id: assertBackupId(spec.group.id) };
    if (!ds.listGroups().some((g) => g.type === group.type && g.id === group.id)) {
      throw new AppError('NOT_FOUND', `group ${group.type}/${group.id} does not exist in ${ds.root}`);
    }
    return this.engine.start({ ...spec, store: ds.root }, `Delete group ${group.type}/${group.id}`, ds.root);
  }

  /** Verifies a snapshot, a group or the whole store, with the keys unlocked this session. */
  private startVerify(spec: Extract<StartableJobSpec, { kind: 'verify' }>): JobState {
    const store = this.store(spec.store).root;
    const what = spec.snapshot
      ? snapshotPath(spec.snapshot)
      : spec.group
        ? `${spec.group.type}/${spec.group.id}`
        : 'every snapshot';
    // Without a snapshot's key, verify checks what it can and says so.
    return this.engine.start({ ...spec, store }, `Verify ${what}`, store, this.unlockedKeys());
  }

  /** Saves one file of a snapshot to a place the policy allows, outside the store. */
  private startExport(spec: Extract<StartableJobSpec, { kind: 'export-file' }>): JobState {
    const store = this.store(spec.store).root;
    const target = this.policy.check(spec.target, 'file to save');
    if (isInside(target, store)) throw new AppError('PATH_NOT_ALLOWED', `cannot save into the datastore ${store}`);
    this.assertReadable(this.store(store), spec.snapshot);
    return this.engine.start(
      { ...spec, store, target },
      `Save ${spec.path} of ${snapshotPath(spec.snapshot)}`,
      store,
      this.unlockedKeys(),
    );
  }

  /** A restore to the folders the snapshot records, each checked by the path policy (the renderer names none). */
  private startInPlaceRestore(spec: Extract<StartableJobSpec, { kind: 'restore-in-place' }>): JobState {
    const ds = this.store(spec.store);
    const places = checkInPlaceSources(this.policy, ds, spec.snapshot);
    this.assertReadable(ds, spec.snapshot);
    const where = places.length === 1 ? places[0]! : `${places.length} original folders`;
    return this.engine.start(
      { ...spec, store: ds.root },
      `Restore ${spec.path || 'everything'} of ${snapshotPath(spec.snapshot)} to ${where}`,
      ds.root,
      this.unlockedKeys(),
    );
  }

  /** An image backup: a regular file outside the store, and a group that records it (or the user's consent). */
  private startImageBackup(spec: Extract<StartableJobSpec, { kind: 'backup-image' }>): JobState {
    const store = this.store(spec.store).root;
    const source = this.policy.check(spec.source, 'disk image to back up');
    assertBackupId(spec.id);
    if (isInside(source, store)) throw new AppError('PATH_NOT_ALLOWED', `${source} is inside the datastore ${store}`);
    assertRegularFile(source);
    const keys = this.backupKeys(this.store(spec.store), spec.id, spec.encrypt);
    if (!spec.allowOtherSource) this.store(spec.store).assertGroupSource({ type: 'host', id: spec.id }, [source]);
    return this.engine.start({ ...spec, store, source }, `Image backup of ${source}`, store, keys);
  }

  /** An image restore to a file outside the store; an existing file is replaced only when the user said so. */
  private startImageRestore(spec: Extract<StartableJobSpec, { kind: 'restore-image' }>): JobState {
    const store = this.store(spec.store).root;
    const target = this.policy.check(spec.target, 'file to restore the image to');
    if (isInside(target, store)) throw new AppError('PATH_NOT_ALLOWED', `cannot restore into the datastore ${store}`);
    const existing = lstatSync(target, { throwIfNoEntry: false });
    if (existing?.isDirectory())
      throw new AppError('INVALID_ARGUMENT', `${target} is a folder: give the name of the image file to write`);
    if (existing && !spec.overwrite)
      throw new AppError('ALREADY_EXISTS', `${target} already exists: choose another name, or replace it`);
    this.assertReadable(this.store(store), spec.snapshot);
    return this.engine.start(
      { ...spec, store, target },
      `Restore image ${snapshotPath(spec.snapshot)} to ${target}`,
      store,
      this.unlockedKeys(),
    );
  }

  /**
   * The remotes of the config folder (the plans' or the keys'), their credentials sealed by the keys' secret store
   * (the desktop app's OS keychain) where there is one; a remote a plan pushes to is not removed.
   */
  private createRemotes(): HostRemotes | undefined {
    const configDir = this.options.plans?.configDir ?? this.options.keys?.configDir;
    if (!configDir) return undefined;
    const plansUsing = (name: string) =>
      (this.plans?.list() ?? []).filter((v) => v.plan.offsite?.remote === name).map((v) => v.plan.name);
    return new HostRemotes(configDir, this.options.keys?.secretStore, plansUsing);
  }

  private remoteContext(): RemoteHostContext {
    return {
      remotes: this.remotes,
      storePath: (path) => this.storePath(path),
      queries: this.remoteQueries,
      keys: () => this.unlockedKeys(),
      engine: this.engine,
      policy: this.policy,
    };
  }

  private createPlans(options: NonNullable<HostServiceOptions['plans']>): HostPlans {
    return new HostPlans({
      ...options,
      remoteAccess: (name) => this.remotes?.tryAccess(name),
      unlockedKey: (fingerprint) => (this.keys?.isUnlocked(fingerprint) ? this.keys.rawKey(fingerprint) : undefined),
      engine: this.engine,
      policy: this.policy,
      onChange: () => this.emit('plans.changed', {}),
      onNotice: ({ planId, kind, title, body }) => this.emit('plan.notice', { planId, kind, title, body }),
    });
  }

  private planHandlers(): Pick<Handlers, PlanAction> {
    const plans = (): HostPlans => {
      if (!this.plans) throw new AppError('NOT_AVAILABLE', 'this host keeps no backup plans');
      return this.plans;
    };
    return {
      'plans.list': () => plans().list(),
      'plans.get': ({ planId }) => plans().get(planId),
      'plans.save': ({ planId, input }) => plans().save(input, planId),
      'plans.remove': ({ planId }) => {
        plans().remove(planId);
        return null;
      },
      'plans.run-now': ({ planId }) => {
        plans().runNow(planId);
        return null;
      },
      'plans.preview-schedule': ({ schedule }) => plans().previewSchedule(schedule),
      'scheduler.info': () => plans().info(),
      'plans.pause-all': ({ minutes }) => plans().pauseAll(minutes),
      'plans.resume-all': () => plans().resumeAll(),
    };
  }

  private createHandlers(): Omit<Handlers, PlanAction | KeyAction | RemoteAction | FindAction | DialogAction> {
    const { platform } = this.options;
    return {
      'app.info': () => ({
        host: platform.host,
        version: this.options.version ?? '0.0.0',
        platform: process.platform,
        homeDir: homedir(),
        nativeDialogs: platform.pickFolder !== undefined,
        dropPaths: platform.host === 'electron',
        maintenance: { gc: true, prune: true, verify: true, forget: true },
      }),
      'stores.recent': () => this.recent.list(),
      'stores.forget-recent': ({ path }) => this.recent.remove(path),
      'store.open': ({ path }) => {
        const summary = storeSummary(this.store(path));
        this.recent.add(summary.path);
        this.watcher.watch(summary.path);
        return summary;
      },
      'groups.list': ({ store }) => this.queries.run('groups.list', { store: this.storePath(store) }),
      'group.set-notes': ({ store, group, notes }) => {
        const ds = this.store(store);
        ds.writeGroupNotes(group, notes);
        this.emit('store.changed', { store: ds.root });
        return this.views.groupRow(ds, group);
      },
      'snapshots.list': ({ store, group }) =>
        this.queries.run('snapshots.list', { store: this.storePath(store), group }),
      'snapshot.set-protected': ({ store, snapshot, protected: value }) => {
        const ds = this.store(store);
        ds.setProtected(snapshot, value);
        this.emit('store.changed', { store: ds.root });
        return this.views.snapshotRow(ds, snapshot);
      },
      'snapshot.set-notes': ({ store, snapshot, notes }) => {
        const ds = this.store(store);
        ds.setSnapshotNotes(snapshot, notes);
        this.emit('store.changed', { store: ds.root });
        return this.views.snapshotRow(ds, snapshot);
      },
      'snapshot.forget': ({ store, snapshot }) => {
        const ds = this.store(store);
        forgetSnapshot(ds, snapshot);
        this.emit('store.changed', { store: ds.root });
        return null;
      },
      'group.prune-simulate': ({ store, group, keep }) =>
        this.queries.run('group.prune-simulate', { store: this.storePath(store), group, keep }),
      'store.gc-status': ({ store }) => lastGc(this.store(store)),
      'store.usage': ({ store }) => this.scans.run('store.usage', { store: this.storePath(store) }),
      'store.activity': ({ store }) => this.queries.run('store.activity', { store: this.storePath(store) }),
      'store.dashboard': ({ store }) => this.dashboards.dashboard(this.storePath(store)),
      'snapshot.browse': (req) =>
        this.queries.run('snapshot.browse', { ...req, store: this.storePath(req.store) }, this.unlockedKeys()),
      'snapshot.diff': ({ store, from, to }) =>
        this.queries.run('snapshot.diff', { store: this.storePath(store), from, to }, this.unlockedKeys()),
      'restore.preview': (req) => this.previewRestore(req),
      'backup.check-source': ({ store, source, id, kind }) => this.checkBackupSource(store, source, id, kind),
      'excludes.preview': ({ source, patterns }) =>
        this.queries.run('excludes.preview', { source: this.policy.check(source, 'folder to back up'), patterns }),
      'jobs.start': (spec) => this.startJob(spec),
      'jobs.cancel': ({ jobId }) => this.engine.cancel(jobId),
      'jobs.list': () => this.engine.list(),
      'jobs.clear-finished': () => {
        this.engine.clearFinished();
        return this.engine.list();
      },
      'fs.list': ({ path, files, hidden }) => listFolder(this.policy, path ?? homedir(), files, hidden),
      'fs.make-folder': ({ parent, name, files }) => makeFolder(this.policy, parent, name, files),
    };
  }

  /** Each asks the platform's dialog; what the user picked goes through the path policy like any path. */
  private dialogHandlers(): Pick<Handlers, DialogAction> {
    const { platform } = this.options;
    return {
      'dialog.pick-folder': async ({ title, defaultPath }) => {
        if (!platform.pickFolder)
          throw new AppError('NOT_AVAILABLE', 'no native folder dialog in browser mode: use the folder browser');
        const picked = await platform.pickFolder(title, defaultPath);
        return picked === null ? null : this.policy.check(picked, 'chosen folder');
      },
      'dialog.pick-file': async ({ title, defaultPath }) => {
        if (!platform.pickFile)
          throw new AppError('NOT_AVAILABLE', 'no native file dialog in browser mode: use the file browser');
        const picked = await platform.pickFile(title, defaultPath);
        return picked === null ? null : this.policy.check(picked, 'chosen file');
      },
      'dialog.save-image': async ({ store, snapshot, archive }) => {
        if (!platform.pickSaveFile)
          throw new AppError('NOT_AVAILABLE', 'no native save dialog in browser mode: use “Restore image…”');
        // A locked key is asked for before the dialog, not after the user chose where to save.
        this.assertReadable(this.store(store), snapshot);
        const name = imageFileName(pickImageArchive(this.store(store).readManifest(snapshot), archive));
        const target = await platform.pickSaveFile(name, 'Save disk image from snapshot');
        // The save dialog has asked before replacing a file.
        return target === null
          ? null
          : this.startJob({
              kind: 'restore-image',
              store,
              snapshot,
              target,
              archive,
              overwrite: true,
              keepDamaged: false,
            });
      },
      'dialog.save-file': async ({ store, snapshot, path }) => {
        if (!platform.pickSaveFile)
          throw new AppError('NOT_AVAILABLE', 'no native save dialog in browser mode: use the download link');
        this.assertReadable(this.store(store), snapshot);
        const target = await platform.pickSaveFile(basename(path));
        return target === null ? null : this.startJob({ kind: 'export-file', store, snapshot, path, target });
      },
    };
  }
}

/**
 * The key actions: paths through the path policy, passphrases handed to the key ring and not kept. Answers carry
 * what a key is and whether it is unlocked, never its bytes.
 */
/** `onUnlocked`: told of each key unlocked (plans waiting to retry with it go now). */
function keyHandlers(
  ring: () => HostKeys,
  policy: () => PathPolicy,
  onUnlocked: (row: KeyRow) => void,
): Pick<Handlers, KeyAction> {
  const keyFile = (path: string) => policy().check(path, 'key file');
  return {
    'keys.list': () => ring().ring(),
    'keys.create': ({ path, passphrase, hint }) =>
      ring().create(path === undefined ? undefined : keyFile(path), passphrase, hint),
    'keys.add': ({ path }) => ring().add(keyFile(path)),
    'keys.unlock': async ({ fingerprint, path, passphrase, remember }) => {
      const by = path !== undefined ? { path: keyFile(path) } : { fingerprint: fingerprint! };
      const row = await ring().unlock(by, passphrase, remember);
      onUnlocked(row);
      return row;
    },
    'keys.lock': ({ fingerprint, forget }) => ring().lock(fingerprint, forget),
    'keys.forget-remembered': ({ fingerprint }) => ring().forgetRemembered(fingerprint),
    'keys.paper-key': async ({ fingerprint }) => ({ html: await ring().paperKey(fingerprint) }),
  };
}
