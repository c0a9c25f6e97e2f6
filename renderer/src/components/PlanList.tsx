import type { PlanView } from '../../../contract/plans.js';
import { useNow } from '../hooks/use-now.js';
import { capitalized } from '../plan-words.js';
import { useApp } from '../state/use-app.js';
import { PlanActions } from './PlanActions.js';
import { Fact, LeftOutNote, PlanPaths, PlanStateBadge, When } from './PlanBits.js';

/** Every plan, one card each: what, where, when, how it stands, and its actions. */
export function PlanList({ plans }: { plans: PlanView[] }) {
  const now = useNow();
  return (
    <ul className="plan-list" aria-label="Plans">
      {plans.map((view) => (
        <PlanCard key={view.plan.id} view={view} now={now} />
      ))}
    </ul>
  );
}

function PlanCard({ view, now }: { view: PlanView; now: number }) {
  const showPlan = useApp((s) => s.showPlan);
  const { plan, status } = view;
  return (
    <li className="plan-card" data-plan={plan.id} aria-label={`Plan ${plan.name}`}>
      <div className="plan-head">
        <h3>
          <button type="button" className="link strong" onClick={() => showPlan(plan.id)}>
            {plan.name}
          </button>
        </h3>
        <PlanStateBadge status={status} />
        <span className="grow" />
        <button type="button" className="link" onClick={() => showPlan(plan.id)}>
          History and details
        </button>
      </div>
      <PlanPaths plan={plan} />
      <dl className="plan-facts">
        <Fact label="Schedule">{capitalized(view.scheduleText)}</Fact>
        <Fact label="Last success">
          <When at={status.lastSuccessAt} now={now} none="never" />
        </Fact>
        <Fact label="Next run">
          <When at={nextRunAt(view)} now={now} none={noNextRun(view)} future />
        </Fact>
      </dl>
      {status.state === 'failing' && status.lastRun?.error && (
        <p className="plan-error">Last run failed: {status.lastRun.error}</p>
      )}
      <LeftOutNote status={status} />
      <PlanActions view={view} />
    </li>
  );
}

/** When the plan runs next; none while it waits (its due time has passed: it runs when the wait is over). */
export function nextRunAt({ status }: PlanView): number | undefined {
  return status.state === 'waiting-store' || status.state === 'waiting-power' ? undefined : status.nextRunAt;
}

/** Why a plan has no next run time. */
export function noNextRun({ plan, status }: PlanView): string {
  if (plan.paused) return 'none while paused';
  if (plan.schedule?.kind === 'manual') return 'only when started by hand';
  if (status.state === 'waiting-store') return 'when the drive is connected';
  if (status.state === 'waiting-power') return 'when the computer is plugged in';
  if (status.state === 'running') return 'after this run';
  return '–';
}
