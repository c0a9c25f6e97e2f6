import type { AppErrorInfo } from '../../../../contract/errors.js';
import type { Plan, PlanDetails, PlanInput, PlanView, SchedulerInfo } from '../../../../contract/plans.js';
import { errorInfo } from '../../api/client.js';
import { inputOfPlan } from '../../plan-form.js';
import type { PlanForm } from '../../plan-form.js';
import type { SliceCreator } from '../app-state.js';

/** The plan editor's start: a plan to edit (planId), or the fields of a new one (blank, a copy, from a group). */
export interface PlanDraft {
  planId?: string;
  start: Plan | Partial<PlanForm>;
}

/** Backup plans: the list as the host has it, the view that shows it, the plan shown in full, and the editor. */
export interface PlansSlice {
  plans: PlanView[];
  plansLoaded: boolean;
  /** The list could not be read (NOT_AVAILABLE: this host keeps no plans). */
  plansError?: AppErrorInfo;
  scheduler?: SchedulerInfo;
  /** The plans view is shown instead of the datastore (or the start page). */
  plansOpen: boolean;
  /** The plan shown in full, by id. */
  planShown?: string;
  planDetails?: PlanDetails;
  planDetailsError?: AppErrorInfo;
  planDraft?: PlanDraft;
  /** An action on a plan that failed (run, pause, remove), shown at that plan. */
  planActionError?: { planId: string; error: AppErrorInfo };
  openPlans(planId?: string): void;
  closePlans(): void;
  showPlan(planId: string | undefined): void;
  refreshPlans(): Promise<void>;
  refreshPlanDetails(): Promise<void>;
  runPlanNow(planId: string): Promise<void>;
  setPlanPaused(plan: Plan, paused: boolean): Promise<void>;
  removePlan(planId: string): Promise<boolean>;
  /** Saves the editor's plan; throws the host's refusal (ApiError) for the editor to show. */
  savePlan(planId: string | undefined, input: PlanInput): Promise<PlanView>;
  editPlan(draft: PlanDraft | undefined): void;
  clearPlanActionError(): void;
  /** Opens the plan's store in the app and shows it. */
  openPlanStore(plan: Plan): Promise<void>;
}

export const createPlansSlice: SliceCreator<PlansSlice> = (set, get, client) => {
  // Answers can come back out of order when plans.changed arrives quickly: only the last asked is kept.
  let listAsked = 0;
  let detailsAsked = 0;
  const act = async (planId: string, action: () => Promise<unknown>): Promise<boolean> => {
    set({ planActionError: undefined });
    try {
      await action();
      return true;
    } catch (err) {
      set({ planActionError: { planId, error: errorInfo(err) } });
      return false;
    }
  };
  return {
    plans: [],
    plansLoaded: false,
    plansOpen: false,

    openPlans(planId) {
      set({ plansOpen: true, keysOpen: false, remotesOpen: false });
      get().showPlan(planId);
    },

    closePlans() {
      set({ plansOpen: false, planShown: undefined, planDetails: undefined });
    },

    showPlan(planId) {
      set({ planShown: planId, planDetails: undefined, planDetailsError: undefined });
      if (planId) void get().refreshPlanDetails();
    },

    async refreshPlans() {
      const asked = ++listAsked;
      try {
        const [plans, scheduler] = await Promise.all([client.listPlans({}), client.schedulerInfo({})]);
        if (asked === listAsked) set({ plans, scheduler, plansLoaded: true, plansError: undefined });
      } catch (err) {
        if (asked === listAsked) set({ plansLoaded: true, plansError: errorInfo(err) });
      }
      if (get().planShown) await get().refreshPlanDetails();
    },

    async refreshPlanDetails() {
      const planId = get().planShown;
      if (!planId) return;
      const asked = ++detailsAsked;
      try {
        const details = await client.getPlan({ planId });
        if (asked === detailsAsked && get().planShown === planId)
          set({ planDetails: details, planDetailsError: undefined });
      } catch (err) {
        if (asked === detailsAsked && get().planShown === planId) set({ planDetailsError: errorInfo(err) });
      }
    },

    async runPlanNow(planId) {
      await act(planId, () => client.runPlanNow({ planId }));
      set({ tasksAsked: get().tasksAsked + 1 }); // its job shows in the tasks panel, which opens for it
    },

    async setPlanPaused(plan, paused) {
      await act(plan.id, () => client.savePlan({ planId: plan.id, input: { ...inputOfPlan(plan), paused } }));
    },

    async removePlan(planId) {
      const removed = await act(planId, () => client.removePlan({ planId }));
      if (removed && get().planShown === planId) get().showPlan(undefined);
      if (removed) await get().refreshPlans();
      return removed;
    },

    async savePlan(planId, input) {
      const view = await client.savePlan({ planId, input });
      await get().refreshPlans();
      return view;
    },

    editPlan(draft) {
      set({ planDraft: draft });
    },

    clearPlanActionError() {
      set({ planActionError: undefined });
    },

    async openPlanStore(plan) {
      set({ planActionError: undefined });
      if (await get().openStore(plan.store)) get().closePlans();
      else {
        const error = get().storeError ?? { code: 'INTERNAL', message: `could not open ${plan.store}` };
        set({ planActionError: { planId: plan.id, error }, storeError: undefined });
      }
    },
  };
};
