import type { Plan } from '../../../contract/plans.js';
import { usePlanEditor } from '../hooks/use-plan-editor.js';
import type { PlanDraft } from '../state/app-store.js';
import { useApp } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PlanCareFields, PlanRunFields } from './PlanCareFields.js';
import { PlanExcludeFields } from './PlanExcludeFields.js';
import { PlanEncryptionFields } from './PlanEncryptionFields.js';
import { PlanOffsiteFields } from './PlanOffsiteFields.js';
import { PlanWhatFields } from './PlanWhatFields.js';
import { RetentionFields } from './RetentionFields.js';
import { ScheduleFields } from './ScheduleFields.js';

/** The plan editor, when one is open (a new plan, a copy, or an edit). */
export function PlanEditorHost() {
  const draft = useApp((s) => s.planDraft);
  if (!draft) return null;
  return <PlanEditor draft={draft} />;
}

/** A plan's settings, checked as they are saved; the host's refusal (a name taken, a group used) shows here. */
function PlanEditor({ draft }: { draft: PlanDraft }) {
  const { form, set, errors, hostError, saving, save, formRef, close } = usePlanEditor(draft);
  const editing: Plan | undefined = draft.planId && 'id' in draft.start ? draft.start : undefined;
  const part = { form, set, errors };
  // An interval plan that never ran makes its first backup as soon as it is saved (the scheduler's nextDueAt).
  const neverRan = useApp(
    (s) => !editing || s.plans.find((p) => p.plan.id === editing.id)?.status.lastRun === undefined,
  );
  return (
    <Modal title={editing ? `Edit plan “${editing.name}”` : 'New backup plan'} onClose={close} className="plan-editor">
      <form
        ref={formRef}
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="editor-grid">
          <PlanWhatFields {...part} groupId={editing?.groupId} />
          <ScheduleFields {...part} neverRan={neverRan} />
          <PlanExcludeFields {...part} />
          <RetentionFields {...part} />
          <PlanCareFields {...part} />
          <PlanRunFields {...part} />
          <PlanEncryptionFields {...part} />
          <PlanOffsiteFields {...part} />
        </div>
        <footer className="modal-footer editor-footer">
          <ErrorNote error={hostError} />
          {Object.keys(errors).length > 0 && <span className="field-error">Some fields need a look (marked).</span>}
          <span className="grow" />
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={saving}>
            {saving ? 'Saving…' : editing ? 'Save plan' : 'Create plan'}
          </button>
        </footer>
      </form>
    </Modal>
  );
}
