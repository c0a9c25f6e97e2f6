import type { SchedulerInfo } from '../../../contract/plans.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { DesktopNoticesControl } from './DesktopNoticesControl.js';
import { ErrorNote } from './ErrorNote.js';
import { PlanDetailsPane } from './PlanDetails.js';
import { PlanList } from './PlanList.js';
import { NewPlanButton } from './NewPlanButton.js';

/** The backup plans: the list (or one plan in full), a new plan, and where the scheduler runs. */
export function PlansView() {
  const shown = useApp((s) => s.planShown);
  return (
    <main className="plans-view" aria-label="Backup plans">
      {shown ? <PlanDetailsPane key={shown} planId={shown} /> : <PlansOverview />}
    </main>
  );
}

function PlansOverview() {
  const { plans, loaded, error } = useAppShallow((s) => ({
    plans: s.plans,
    loaded: s.plansLoaded,
    error: s.plansError,
  }));
  return (
    <>
      <PlansHeader />
      <ErrorNote error={error} />
      {loaded && !error && plans.length === 0 && <NoPlans />}
      {plans.length > 0 && <PlanList plans={plans} />}
    </>
  );
}

function PlansHeader() {
  const { closePlans, hasStore, scheduler, host } = useAppShallow((s) => ({
    closePlans: s.closePlans,
    hasStore: s.store !== undefined,
    scheduler: s.scheduler,
    host: s.info?.host,
  }));
  return (
    <>
      <div className="pane-header">
        <button type="button" onClick={closePlans}>
          {hasStore ? '← Datastore' : '← Datastores'}
        </button>
        <h2 id="plans-title" className="grow">
          Backup plans
        </h2>
        <DesktopNoticesControl />
        <NewPlanButton />
      </div>
      {scheduler && <p className="muted small scheduler-note">{schedulerText(scheduler, host)}</p>}
    </>
  );
}

function NoPlans() {
  return (
    <div className="plans-empty">
      <h3>No plans yet</h3>
      <p>
        A plan backs up one folder, or a disk image, into a datastore by itself: every hour, every night, or on the days
        you choose. It keeps as many snapshots as you say and removes older ones, and it looks after the store (garbage
        collection, verify). When the store&apos;s drive is not connected, the plan waits and runs once it is back.
      </p>
      <NewPlanButton />
    </div>
  );
}

/** Who runs the schedule, in words: this host, another Cairn, or nobody yet. */
function schedulerText(info: SchedulerInfo, host: 'electron' | 'web' | undefined): string {
  const here = host === 'web' ? 'this browser-mode host' : 'this app';
  switch (info.role) {
    case 'active':
      return `Plans run on schedule while ${here} runs. They are kept in ${info.configDir}.`;
    case 'standby':
      return `Another Cairn (the desktop app, browser mode or “cairn scheduler”) runs the schedule; ${here} takes over when it stops. Plans are kept in ${info.configDir}.`;
    case 'stopped':
      return `The scheduler is not running: plans run only when started with “Back up now”. Plans are kept in ${info.configDir}.`;
  }
}
