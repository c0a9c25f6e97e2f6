import type { GroupRow } from '../../../contract/model.js';
import type { PlanForm } from '../plan-form.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { PlanStateBadge } from './PlanBits.js';

/**
 * Under a group's title: the plan that backs up into it (Back up now, Show plan), or an offer to make one,
 * filled in from what the group records.
 */
export function GroupPlan({ group }: { group: GroupRow }) {
  const { view, available, image, store } = useAppShallow((s) => ({
    view: s.plans.find((p) => p.plan.store === s.store?.path && `host/${p.plan.groupId}` === group.path),
    available: s.plansLoaded && s.plansError === undefined,
    image: s.snapshots.some((r) => r.type === group.type && r.id === group.id && r.kind === 'image'),
    store: s.store?.path ?? '',
  }));
  const { runPlanNow, openPlans, editPlan } = useAppShallow((s) => ({
    runPlanNow: s.runPlanNow,
    openPlans: s.openPlans,
    editPlan: s.editPlan,
  }));
  const error = useApp((s) =>
    view && s.planActionError?.planId === view.plan.id ? s.planActionError.error : undefined,
  );
  if (!available || (!view && group.type !== 'host')) return null;
  if (!view) {
    const start: Partial<PlanForm> = { name: group.id, store, sourceKind: image ? 'image' : 'folder' };
    const source = localSource(group.source);
    return (
      <div className="group-plan">
        <span className="muted small">No plan backs up this group.</span>
        <button type="button" onClick={() => editPlan({ start: source ? { ...start, source } : start })}>
          {image ? 'Make a plan for this image…' : 'Make a plan for this folder…'}
        </button>
      </div>
    );
  }
  return (
    <>
      <div className="group-plan">
        <span className="small">
          Plan “{view.plan.name}”, {view.scheduleText}
        </span>
        <PlanStateBadge status={view.status} />
        <button
          type="button"
          className="primary"
          disabled={view.status.state === 'running'}
          onClick={() => void runPlanNow(view.plan.id)}
        >
          {view.status.state === 'running' ? 'Running…' : 'Back up now'}
        </button>
        <button type="button" className="link" onClick={() => openPlans(view.plan.id)}>
          Show plan
        </button>
      </div>
      <ErrorNote error={error} />
    </>
  );
}

/** The group's recorded source when it is one path on this computer ("…, …" or "… on laptop" are not). */
function localSource(source: string | undefined): string | undefined {
  if (!source || source.includes(', ') || / on [^/\\]+$/.test(source)) return undefined;
  return source;
}
