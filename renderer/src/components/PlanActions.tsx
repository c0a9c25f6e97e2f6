import { useState } from 'react';
import type { Plan, PlanView } from '../../../contract/plans.js';
import { copyName, planForm } from '../plan-form.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { KeepOrRemoveFooter, Modal } from './Modal.js';

/** What can be done with a plan, in its row and in its details, and the error of the last thing that failed. */
export function PlanActions({ view }: { view: PlanView }) {
  const { runPlanNow, setPlanPaused, openPlanStore, editPlan, names } = useAppShallow((s) => ({
    runPlanNow: s.runPlanNow,
    setPlanPaused: s.setPlanPaused,
    openPlanStore: s.openPlanStore,
    editPlan: s.editPlan,
    names: s.plans.map((p) => p.plan.name).join('\n'),
  }));
  const [removing, setRemoving] = useState(false);
  const { plan } = view;
  const running = view.status.state === 'running';
  const duplicate = () => editPlan({ start: { ...planForm(plan), name: copyName(plan.name, names.split('\n')) } });
  return (
    <>
      <div className="toolbar plan-actions" role="toolbar" aria-label={`Actions for plan ${plan.name}`}>
        <button type="button" className="primary" disabled={running} onClick={() => void runPlanNow(plan.id)}>
          {running ? 'Running…' : 'Back up now'}
        </button>
        <button type="button" onClick={() => editPlan({ planId: plan.id, start: plan })}>
          Edit…
        </button>
        <button type="button" onClick={duplicate}>
          Duplicate…
        </button>
        <button type="button" onClick={() => void setPlanPaused(plan, !plan.paused)}>
          {plan.paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" onClick={() => void openPlanStore(plan)} title={`Open ${plan.store} in Cairn`}>
          Open store
        </button>
        <button type="button" className="danger" onClick={() => setRemoving(true)}>
          Remove…
        </button>
      </div>
      <PlanActionError planId={plan.id} />
      {removing && <RemovePlanDialog plan={plan} onClose={() => setRemoving(false)} />}
    </>
  );
}

/** The error of an action on this plan, until dismissed or the next action. */
function PlanActionError({ planId }: { planId: string }) {
  const failed = useApp((s) => (s.planActionError?.planId === planId ? s.planActionError.error : undefined));
  const clear = useApp((s) => s.clearPlanActionError);
  return <ErrorNote error={failed} onDismiss={clear} />;
}

/** Asks before removing a plan, and says that its snapshots stay. */
function RemovePlanDialog({ plan, onClose }: { plan: Plan; onClose(): void }) {
  const removePlan = useApp((s) => s.removePlan);
  return (
    <Modal title={`Remove plan “${plan.name}”?`} onClose={onClose}>
      <p>The plan stops running, and its schedule, state and run history are removed.</p>
      <p>
        <strong>Its snapshots stay in the store</strong>, in host/{plan.groupId} of{' '}
        <span className="mono">{plan.store}</span>: browse, restore or prune them like any other.
      </p>
      <KeepOrRemoveFooter
        remove="Remove plan"
        onKeep={onClose}
        onRemove={async () => {
          await removePlan(plan.id);
          onClose();
        }}
      />
    </Modal>
  );
}
