import { needsAttention } from '../../../contract/plans.js';
import { plural } from '../../../contract/format.js';
import { useAppShallow } from '../state/use-app.js';
import { NewPlanButton } from './NewPlanButton.js';

/** The start page's way to the plans: how many there are and how many need a look, or what a plan is. */
export function PlansTeaser() {
  const { plans, available, openPlans } = useAppShallow((s) => ({
    plans: s.plans,
    available: s.plansLoaded && s.plansError === undefined,
    openPlans: s.openPlans,
  }));
  if (!available) return null;
  const attention = plans.filter((p) => needsAttention(p.status.state)).length;
  return (
    <section aria-labelledby="plans-teaser-title">
      <h2 id="plans-teaser-title">Backup plans</h2>
      <div className="row">
        <span className="grow">
          {plans.length === 0
            ? 'Let Cairn back up a folder by itself, on a schedule, and keep as many snapshots as you say.'
            : `${plural(plans.length, 'plan')}${attention > 0 ? `, ${attention} needing attention` : ''}.`}
        </span>
        {plans.length === 0 ? (
          <NewPlanButton />
        ) : (
          <button type="button" onClick={() => openPlans()}>
            Show plans
          </button>
        )}
      </div>
    </section>
  );
}
