import type { PlanNotice } from '../../../../contract/plans.js';
import {
  desktopNoticesState,
  showDesktopNotice,
  turnOffDesktopNotices,
  turnOnDesktopNotices,
  type DesktopNotices,
} from '../../desktop-notices.js';
import type { SliceCreator } from '../app-state.js';

export interface Toast {
  id: number;
  notice: PlanNotice;
}

/** How long good news stays in the window; failures and overdue plans stay until dismissed. */
export const TOAST_MS = 10_000;

/** Notices about plans: on the desktop (browser mode, when turned on) or as toasts in the window. */
export interface NoticesSlice {
  toasts: Toast[];
  desktopNotices: DesktopNotices;
  onPlanNotice(notice: PlanNotice): void;
  dismissToast(id: number): void;
  setDesktopNotices(on: boolean): Promise<void>;
}

export const createNoticesSlice: SliceCreator<NoticesSlice> = (set, get) => {
  let nextId = 1;
  return {
    toasts: [],
    desktopNotices: desktopNoticesState(),

    onPlanNotice(notice) {
      // The desktop app's main process shows a native notification itself; the window adds its toast.
      const web = get().info?.host === 'web';
      if (web && showDesktopNotice(notice, () => get().openPlans(notice.planId))) return;
      const id = nextId++;
      set({ toasts: [...get().toasts, { id, notice }].slice(-4) });
      if (notice.kind === 'succeeded' || notice.kind === 'recovered')
        setTimeout(() => get().dismissToast(id), TOAST_MS);
    },

    dismissToast(id) {
      set({ toasts: get().toasts.filter((t) => t.id !== id) });
    },

    async setDesktopNotices(on) {
      set({ desktopNotices: on ? await turnOnDesktopNotices() : turnOffDesktopNotices() });
    },
  };
};
