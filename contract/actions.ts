import type { JobState, StartableJobSpec } from './jobs.js';
import type { PlanDetails, PlanInput, PlanView, Schedule, SchedulePreview, SchedulerInfo } from './plans.js';
import type {
  AppInfo,
  DiffResult,
  ExcludePreviewResult,
  RestorePreviewResult,
  FolderListing,
  FolderPage,
  GroupRef,
  GroupRow,
  KeepOptions,
  LastGc,
  PruneRow,
  SnapshotRef,
  SnapshotRow,
  SourceCheck,
  StoreSummary,
  StoreUsage,
  ActivityPoint,
  StoreDashboard,
} from './model.js';
import type { Result } from './errors.js';
import type { ConflictChoice, FilePreview, InPlacePreview, PathHistory, SearchRequest } from './find.js';
import type { KeyRing, KeyRow } from './keys.js';
import type {
  RemoteCheckResult,
  RemoteCredentialsInput,
  RemoteInfo,
  RemoteListing,
  RemoteSettings,
} from './remotes.js';

export type { RemoteInfo } from './remotes.js';

/** Every request → response the renderer can make. The channel name is the key; each has a named API method. */
export interface Actions {
  'app.info': { req: Record<string, never>; res: AppInfo };
  'stores.recent': { req: Record<string, never>; res: string[] };
  'stores.forget-recent': { req: { path: string }; res: string[] };
  'store.open': { req: { path: string }; res: StoreSummary };
  'groups.list': { req: { store: string }; res: GroupRow[] };
  'group.set-notes': { req: { store: string; group: GroupRef; notes: string }; res: GroupRow };
  'snapshots.list': { req: { store: string; group: GroupRef }; res: SnapshotRow[] };
  'snapshot.set-protected': { req: { store: string; snapshot: SnapshotRef; protected: boolean }; res: SnapshotRow };
  'snapshot.set-notes': { req: { store: string; snapshot: SnapshotRef; notes: string }; res: SnapshotRow };
  'snapshot.forget': { req: { store: string; snapshot: SnapshotRef }; res: null };
  /** The prune simulator: every snapshot's keep/remove and why; nothing is removed (the prune job does that). */
  'group.prune-simulate': { req: { store: string; group: GroupRef; keep: KeepOptions }; res: PruneRow[] };
  'store.gc-status': { req: { store: string }; res: LastGc };
  /** The chunks on disk, counted now (a scan of the chunk folders, on a worker of its own: it may take seconds). */
  'store.usage': { req: { store: string }; res: StoreUsage };
  /** The newest snapshots of every group with their sizes, for the dashboard's chart. */
  'store.activity': { req: { store: string }; res: ActivityPoint[] };
  /** The dashboard's store figures: free space on its disk, its size over time, recent snapshots. */
  'store.dashboard': { req: { store: string }; res: StoreDashboard };
  /** A page of one folder of a snapshot (a folder may hold 100,000 entries: the tree asks for more as it scrolls). */
  'snapshot.browse': {
    req: { store: string; snapshot: SnapshotRef; path: string; offset?: number; limit?: number };
    res: FolderPage;
  };
  'snapshot.diff': { req: { store: string; from: SnapshotRef; to: SnapshotRef }; res: DiffResult };
  'excludes.preview': { req: { source: string; patterns: string[] }; res: ExcludePreviewResult };
  /**
   * Starts a search of names (and sizes, dates) in a group's snapshots or one of them; its hits arrive as
   * `search.update` events under the renderer's searchId. Answers with how many snapshots it searches.
   */
  'search.start': { req: SearchRequest; res: { snapshots: number } };
  /** Stops a search (nothing happens if it ended already). */
  'search.cancel': { req: { searchId: string }; res: null };
  /** Every version of a path across a group's folder snapshots, runs of the same version once, absences too. */
  'path.history': { req: { store: string; group: GroupRef; path: string }; res: PathHistory };
  /** A file of a snapshot to look at: a text's start, an image, or a binary's first bytes (nothing on disk). */
  'snapshot.preview': { req: { store: string; snapshot: SnapshotRef; path: string }; res: FilePreview };
  /** What a restore of `path` ('' for everything) to where it was backed up from would do to each file. */
  'restore.in-place-preview': {
    req: { store: string; snapshot: SnapshotRef; path: string; conflict: ConflictChoice; overwriteNewer?: boolean };
    res: InPlacePreview;
  };
  /** What a restore of `paths` into `target` would meet there: files it adds, ones there as backed up, ones that differ. */
  'restore.preview': {
    req: { store: string; snapshot: SnapshotRef; paths: string[]; target: string };
    res: RestorePreviewResult;
  };
  /** Before a backup: whether the group `host/<id>` may take this folder or image (it records the source it backs up). */
  'backup.check-source': {
    req: { store: string; source: string; id: string; kind?: 'folder' | 'image' };
    res: SourceCheck;
  };
  'jobs.start': { req: StartableJobSpec; res: JobState };
  /** The backup plans of this user (the config folder's plans.json), each with where it stands. */
  'plans.list': { req: Record<string, never>; res: PlanView[] };
  'plans.get': { req: { planId: string }; res: PlanDetails };
  /** Creates a plan (no planId) or replaces one's settings. */
  'plans.save': { req: { planId?: string; input: PlanInput }; res: PlanView };
  /** Removes the plan, its state and history; its snapshots stay in the store. */
  'plans.remove': { req: { planId: string }; res: null };
  /** "Back up now": queued behind a running run; answers at once. */
  'plans.run-now': { req: { planId: string }; res: null };
  'plans.preview-schedule': { req: { schedule: Schedule }; res: SchedulePreview };
  'scheduler.info': { req: Record<string, never>; res: SchedulerInfo };
  /** "Pause all": no plan runs by its schedule for `minutes`, or until resumed when absent. */
  'plans.pause-all': { req: { minutes?: number }; res: SchedulerInfo };
  'plans.resume-all': { req: Record<string, never>; res: SchedulerInfo };
  'jobs.cancel': { req: { jobId: string }; res: JobState };
  'jobs.list': { req: Record<string, never>; res: JobState[] };
  /** Forgets the finished jobs; answers with the jobs left (the running ones). */
  'jobs.clear-finished': { req: Record<string, never>; res: JobState[] };
  /** `hidden`: list folders (and files) whose names start with a dot too. */
  'fs.list': { req: { path?: string; files?: boolean; hidden?: boolean }; res: FolderListing };
  /** A new folder `name` in `parent` (the folder browser's "New folder"); answers with its listing. */
  'fs.make-folder': { req: { parent: string; name: string; files?: boolean }; res: FolderListing };
  'dialog.pick-folder': { req: { title: string; defaultPath?: string }; res: string | null };
  /** The native open dialog for one file (a disk image to back up); Electron only. */
  'dialog.pick-file': { req: { title: string; defaultPath?: string }; res: string | null };
  'dialog.save-file': { req: { store: string; snapshot: SnapshotRef; path: string }; res: JobState | null };
  /** The native save dialog, then a restore of the snapshot's image to the chosen file; Electron only. */
  'dialog.save-image': { req: { store: string; snapshot: SnapshotRef; archive?: string }; res: JobState | null };
  /** The remotes of this user (cairn remote add): where each is, never its credentials. */
  'remotes.list': { req: Record<string, never>; res: RemoteInfo[] };
  /** A new remote; its credentials are kept by the host (sealed by the OS keychain where it can) and never answered. */
  'remotes.add': {
    req: { name: string; settings: RemoteSettings; credentials: RemoteCredentialsInput };
    res: RemoteInfo;
  };
  /** New settings for a remote (its name stays); new credentials when given, else the kept ones stay. */
  'remotes.update': {
    req: { name: string; settings: RemoteSettings; credentials?: RemoteCredentialsInput };
    res: RemoteInfo;
  };
  /** Forgets a remote and its credentials; nothing in its bucket is touched. */
  'remotes.remove': { req: { name: string }; res: null };
  /**
   * What a remote's service supports (a few small objects, removed again): a saved remote by name, or a draft's
   * settings with its credentials (or, given its name too, the ones kept for it).
   */
  'remotes.check': {
    req: { name?: string; settings?: RemoteSettings; credentials?: RemoteCredentialsInput };
    res: RemoteCheckResult;
  };
  /** A remote's snapshots (one listing per backup type), each marked when the store `store` has it too. */
  'remotes.snapshots': { req: { remote: string; store?: string }; res: RemoteListing };
  /** A page of one folder of a remote snapshot, read through the remote's cache (only what the listing needs). */
  'remote.browse': {
    req: { remote: string; snapshot: SnapshotRef; path: string; offset?: number; limit?: number };
    res: FolderPage;
  };
  /** The key files the app knows (the default key and those added), each locked or unlocked. */
  'keys.list': { req: Record<string, never>; res: KeyRing };
  /** A new key (scrypt, PBS's parameters) in a new key file, unlocked at once; `path` defaults to the default key. */
  'keys.create': { req: { path?: string; passphrase: string; hint?: string }; res: KeyRow };
  /** Adds an existing key file (one made by `cairn key create` or proxmox-backup-client) to the known ones. */
  'keys.add': { req: { path: string }; res: KeyRow };
  /** Unlocks a known key (by fingerprint) or a key file (by path, which is then known); `remember`: seal it here. */
  'keys.unlock': {
    req: { fingerprint?: string; path?: string; passphrase?: string; remember?: boolean };
    res: KeyRow;
  };
  /** Drops the key from the host's memory; `forget` also removes the copy remembered on this computer. */
  'keys.lock': { req: { fingerprint: string; forget?: boolean }; res: KeyRow };
  /** The key stays unlocked for this session, but is no longer remembered on this computer (the OS keychain). */
  'keys.forget-remembered': { req: { fingerprint: string }; res: KeyRow };
  /** The printable page of a key file (its text and QR code; the key inside stays encrypted by its passphrase). */
  'keys.paper-key': { req: { fingerprint: string }; res: { html: string } };
}

export type ActionName = keyof Actions;
export type ActionRequest<K extends ActionName> = Actions[K]['req'];
export type ActionResponse<K extends ActionName> = Actions[K]['res'];

/** The named API methods and the channel each one calls: the preload and the web transport build from this. */
export const API_METHODS = {
  getAppInfo: 'app.info',
  recentStores: 'stores.recent',
  forgetRecentStore: 'stores.forget-recent',
  openStore: 'store.open',
  listGroups: 'groups.list',
  setGroupNotes: 'group.set-notes',
  listSnapshots: 'snapshots.list',
  setProtected: 'snapshot.set-protected',
  setSnapshotNotes: 'snapshot.set-notes',
  forgetSnapshot: 'snapshot.forget',
  simulatePrune: 'group.prune-simulate',
  gcStatus: 'store.gc-status',
  storeUsage: 'store.usage',
  storeActivity: 'store.activity',
  storeDashboard: 'store.dashboard',
  browseSnapshot: 'snapshot.browse',
  diffSnapshots: 'snapshot.diff',
  previewExcludes: 'excludes.preview',
  startSearch: 'search.start',
  cancelSearch: 'search.cancel',
  pathHistory: 'path.history',
  previewFile: 'snapshot.preview',
  previewInPlace: 'restore.in-place-preview',
  previewRestore: 'restore.preview',
  checkBackupSource: 'backup.check-source',
  startJob: 'jobs.start',
  listPlans: 'plans.list',
  getPlan: 'plans.get',
  savePlan: 'plans.save',
  removePlan: 'plans.remove',
  runPlanNow: 'plans.run-now',
  previewSchedule: 'plans.preview-schedule',
  schedulerInfo: 'scheduler.info',
  pauseAllPlans: 'plans.pause-all',
  resumeAllPlans: 'plans.resume-all',
  cancelJob: 'jobs.cancel',
  listJobs: 'jobs.list',
  clearFinishedJobs: 'jobs.clear-finished',
  listFolder: 'fs.list',
  makeFolder: 'fs.make-folder',
  pickFolder: 'dialog.pick-folder',
  pickFile: 'dialog.pick-file',
  saveFile: 'dialog.save-file',
  saveImage: 'dialog.save-image',
  listRemotes: 'remotes.list',
  addRemote: 'remotes.add',
  updateRemote: 'remotes.update',
  removeRemote: 'remotes.remove',
  checkRemote: 'remotes.check',
  listRemoteSnapshots: 'remotes.snapshots',
  browseRemoteSnapshot: 'remote.browse',
  listKeys: 'keys.list',
  createKey: 'keys.create',
  addKey: 'keys.add',
  unlockKey: 'keys.unlock',
  lockKey: 'keys.lock',
  forgetRememberedKey: 'keys.forget-remembered',
  paperKey: 'keys.paper-key',
} as const satisfies Record<string, ActionName>;

export type ApiMethod = keyof typeof API_METHODS;

/** Every action has exactly one method (checked at compile time below). */
type MissingMethods = Exclude<ActionName, (typeof API_METHODS)[ApiMethod]>;
const _allActionsHaveMethods: MissingMethods extends never ? true : MissingMethods = true;
void _allActionsHaveMethods;

export const ACTION_NAMES = Object.values(API_METHODS) as ActionName[];

/** The Electron IPC channel of an action; main accepts no other names. */
export function ipcChannel(action: ActionName): string {
  return `cairn:${action}`;
}

/** The raw bridge: one function per method, answering with a Result (what the preload and web transport give). */
export type RawApi = {
  [M in ApiMethod]: (
    req: ActionRequest<(typeof API_METHODS)[M]>,
  ) => Promise<Result<ActionResponse<(typeof API_METHODS)[M]>>>;
};
