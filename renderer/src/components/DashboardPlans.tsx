import type { PlanView } from '../../../contract/plans.js';
import { useNow } from '../hooks/use-now.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { LeftOutNote, PlanStateBadge, When } from './PlanBits.js';
import { nextRunAt, noNextRun } from './PlanList.js';
import { NewPlanButton } from './NewPlanButton.js';

/** The plans that back up into the open store: how each stands, its last success and next run; or an invitation. */
export function DashboardPlans({ store }: { store: string }) {
  const { all, available } = useAppShallow((s) => ({
    all: s.plans,
    available: s.plansLoaded && s.plansError === undefined,
  }));
  const now = useNow();
  const plans = all.filter((p) => p.plan.store === store);
  return (
    <section className="dash-card dash-plans" aria-labelledby="dash-plans-title">
      <h3 id="dash-plans-title">Plans for this store</h3>
      {!available ? (
        <p className="muted">This host keeps no backup plans.</p>
      ) : plans.length === 0 ? (
        <div className="row">
          <p className="muted grow">No plan backs up into this store yet: let Cairn back up a folder on a schedule.</p>
          <NewPlanButton />
        </div>
      ) : (
        <ul className="dash-plan-list" aria-label="Plans for this store">
          {plans.map((view) => (
            <DashboardPlan key={view.plan.id} view={view} now={now} />
          ))}
        </ul>
      )}
    </section>
  );
}

function DashboardPlan({ view, now }: { view: PlanView; now: number }) {
  const openPlans = useApp((s) => s.openPlans);
  const { plan, status } = view;
  return (
    <li aria-label={`Plan ${plan.name}`} data-plan={plan.id}>
      <div className="row">
        <button type="button" className="link strong" onClick={() => openPlans(plan.id)}>
          {plan.name}
        </button>
        <PlanStateBadge status={status} />
      </div>
      <dl className="dash-facts">
        <dt>Last success</dt>
        <dd>
          <When at={status.lastSuccessAt} now={now} none="never" />
        </dd>
        <dt>Next run</dt>
        <dd>
          <When at={nextRunAt(view)} now={now} none={noNextRun(view)} future />
        </dd>
      </dl>
      {status.state === 'overdue' && (
        <p className="dash-warn" role="alert">
          Overdue: no successful backup for twice the usual time between runs.
        </p>
      )}
      {status.state === 'failing' && status.lastRun?.error && (
        <p className="plan-error">Last run failed: {status.lastRun.error}</p>
      )}
      <LeftOutNote status={status} />
    </li>
  );
}
