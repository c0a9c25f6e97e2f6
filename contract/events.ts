import type { JobState } from './jobs.js';
import type { PlanNotice } from './plans.js';
import type { SearchUpdate } from './find.js';

/** What the host pushes to the renderer. */
export interface HostEvents {
  /** Throttled to about 10 per second per job. */
  'job.progress': JobState;
  /** The final state, always sent, once. */
  'job.done': JobState;
  /** Groups or snapshots of a store changed (a backup finished, a snapshot was protected). */
  'store.changed': { store: string };
  /** Plans or their state changed (an edit, a run began or ended, a wait): the plans view asks again. */
  'plans.changed': Record<string, never>;
  /** Something about a plan the user should hear of, once (a failure, a recovery, overdue). */
  'plan.notice': PlanNotice;
  /** A search's new hits and how far it got (to every window: each keeps only its own search's). */
  'search.update': SearchUpdate;
}

export type HostEventName = keyof HostEvents;

export const HOST_EVENT_NAMES = [
  'job.progress',
  'job.done',
  'store.changed',
  'plans.changed',
  'plan.notice',
  'search.update',
] as const satisfies readonly HostEventName[];

export type Unsubscribe = () => void;

/** Subscriptions as the preload and the web transport give them: each returns its unsubscribe function. */
export interface EventSubscriptions {
  onJobProgress(listener: (job: JobState) => void): Unsubscribe;
  onJobDone(listener: (job: JobState) => void): Unsubscribe;
  onStoreChanged(listener: (event: HostEvents['store.changed']) => void): Unsubscribe;
  onPlansChanged(listener: (event: HostEvents['plans.changed']) => void): Unsubscribe;
  onPlanNotice(listener: (notice: PlanNotice) => void): Unsubscribe;
  onSearchUpdate(listener: (update: SearchUpdate) => void): Unsubscribe;
}

export const EVENT_METHODS = {
  onJobProgress: 'job.progress',
  onJobDone: 'job.done',
  onStoreChanged: 'store.changed',
  onPlansChanged: 'plans.changed',
  onPlanNotice: 'plan.notice',
  onSearchUpdate: 'search.update',
} as const satisfies Record<keyof EventSubscriptions, HostEventName>;

export function ipcEventChannel(event: HostEventName): string {
  return `cairn-event:${event}`;
}

/** What the Electron preload puts on `window.cairn`: the named methods, the subscriptions, and dropped paths. */
export interface PreloadExtras {
  /** The filesystem path of a dropped File (Electron's webUtils); '' when it has none. */
  getPathForFile(file: object): string;
}
