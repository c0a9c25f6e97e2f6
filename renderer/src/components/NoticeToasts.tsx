import { useApp, useAppShallow } from '../state/use-app.js';

/** Notices about plans inside the window: when desktop notifications are off, refused, or the app shows its own. */
export function NoticeToasts() {
  const { toasts, dismiss, openPlans } = useAppShallow((s) => ({
    toasts: s.toasts,
    dismiss: s.dismissToast,
    openPlans: s.openPlans,
  }));
  const hasPlans = useApp((s) => s.plans.length > 0);
  if (toasts.length === 0) return null;
  return (
    <div className="toasts" aria-label="Notices">
      {toasts.map(({ id, notice }) => {
        const bad = notice.kind !== 'succeeded' && notice.kind !== 'recovered'; // failed, overdue, damaged, incomplete
        return (
          <div key={id} className={`toast ${bad ? 'bad' : 'good'}`} role={bad ? 'alert' : 'status'}>
            <strong>{notice.title}</strong>
            <p>{notice.body}</p>
            <div className="toast-actions">
              {hasPlans && (
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    openPlans(notice.planId);
                    dismiss(id);
                  }}
                >
                  Show plan
                </button>
              )}
              <button type="button" className="link muted" onClick={() => dismiss(id)}>
                Dismiss
              </button>
            </div>
          </div>
        );
      })}
    </div>
  );
}
