import { useAppShallow } from '../state/use-app.js';

/** Starts a new plan, into the open datastore (else the last one used). */
export function NewPlanButton() {
  const { editPlan, store } = useAppShallow((s) => ({ editPlan: s.editPlan, store: s.store?.path ?? s.recent[0] }));
  return (
    <button type="button" className="primary" onClick={() => editPlan({ start: { store: store ?? '' } })}>
      New plan…
    </button>
  );
}
