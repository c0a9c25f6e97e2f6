import { needsAttention } from '../../../contract/plans.js';
import { useAppShallow } from '../state/use-app.js';

/** The top bar's way to the plans (and back), with how many need a look. */
export function PlansButton() {
  const { open, openPlans, closePlans, available, attention } = useAppShallow((s) => ({
    open: s.plansOpen,
    openPlans: s.openPlans,
    closePlans: s.closePlans,
    available: s.plansError?.code !== 'NOT_AVAILABLE',
    attention: s.plans.filter((p) => needsAttention(p.status.state)).length,
  }));
  if (!available && !open) return null;
  return (
    <button
      type="button"
      className={open ? 'nav-button current' : 'nav-button'}
      aria-pressed={open}
      onClick={() => (open ? closePlans() : openPlans())}
      title={
        attention > 0 ? `${attention} of the plans need attention` : 'Backup plans: backups that run by themselves'
      }
    >
      Plans
      {attention > 0 && <span className="badge attention">{attention}</span>}
    </button>
  );
}
