import type { ReactNode } from 'react';
import type { PlanView } from '../../../contract/plans.js';
import { useNow } from '../hooks/use-now.js';
import { capitalized } from '../plan-words.js';
import { useApp } from '../state/use-app.js';
import { PlanActions } from './PlanActions.js';
import { PlanStateBadge, When } from './PlanBits.js';

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
  const source = plan.sources[0];
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
      <dl className="plan-facts paths">
        <Fact label={source?.kind === 'image' ? 'Disk image' : 'Folder'}>
          <span className="mono">{source?.path}</span>
        </Fact>
        <Fact label="Datastore">
          <span className="mono">{plan.store}</span>
        </Fact>
      </dl>
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

/** One fact of a plan: a label over its value. */
export function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}
