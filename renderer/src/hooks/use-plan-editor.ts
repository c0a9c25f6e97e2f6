import { useEffect, useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { errorInfo } from '../api/client.js';
import { checkPlanForm, newPlanForm, planForm, type PlanForm, type PlanFormErrors } from '../plan-form.js';
import type { PlanDraft } from '../state/app-store.js';
import { useApp } from '../state/use-app.js';

export type SetField = <K extends keyof PlanForm>(key: K, value: PlanForm[K]) => void;

/** What every part of the editor gets: the fields, a setter, and the errors to show at them. */
export interface EditorPart {
  form: PlanForm;
  set: SetField;
  errors: PlanFormErrors;
}

function startForm(draft: PlanDraft): PlanForm {
  return 'id' in draft.start ? planForm(draft.start) : newPlanForm(draft.start);
}

/**
 * The plan editor's state: the fields, their errors (shown after a save was tried, and cleared as a field
 * changes), and the save, whose refusal by the host (a name taken, a group used) stays in the dialog.
 */
export function usePlanEditor(draft: PlanDraft) {
  const savePlan = useApp((s) => s.savePlan);
  const editPlan = useApp((s) => s.editPlan);
  const [form, setForm] = useState<PlanForm>(() => startForm(draft));
  const [errors, setErrors] = useState<PlanFormErrors>({});
  const [hostError, setHostError] = useState<AppErrorInfo>();
  const [saving, setSaving] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const [tried, setTried] = useState(0);
  // After a save that found errors, focus goes to the first field to fix.
  useEffect(() => {
    if (tried > 0) formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [tried]);

  const set: SetField = (key, value) => {
    setForm((f) => ({ ...f, [key]: value }));
    setErrors((e) => (key in e ? Object.fromEntries(Object.entries(e).filter(([k]) => k !== key)) : e));
    setHostError(undefined);
  };
  const save = async () => {
    const checked = checkPlanForm(form);
    if ('errors' in checked) {
      setErrors(checked.errors);
      setTried((n) => n + 1);
      return;
    }
    setSaving(true);
    try {
      await savePlan(draft.planId, checked.input);
      editPlan(undefined);
    } catch (err) {
      setHostError(errorInfo(err));
    } finally {
      setSaving(false);
    }
  };
  return { form, set, errors, hostError, saving, save, formRef, close: () => editPlan(undefined) };
}
