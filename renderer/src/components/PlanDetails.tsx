import { useEffect, useRef } from 'react';
import type { Plan, PlanDetails, PlanView } from '../../../contract/plans.js';
import type { DesktopNotices } from '../desktop-notices.js';
import { KeyBadge } from './KeyBadge.js';
import { useNow } from '../hooks/use-now.js';
import { capitalized, careText, NOTIFY_TEXT, retentionText } from '../plan-words.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { PlanActions } from './PlanActions.js';
import { Fact, PlanPaths, PlanStateBadge, When } from './PlanBits.js';
import { PlanRuns } from './PlanRuns.js';

/** One plan in full: its settings, the next runs, what it excludes, and its run history. */
export function PlanDetailsPane({ planId }: { planId: string }) {
  const { view, details, error, loaded, showPlan } = useAppShallow((s) => ({
    view: s.plans.find((p) => p.plan.id === planId),
    details: s.planDetails,
    error: s.planDetailsError,
    loaded: s.plansLoaded,
    showPlan: s.showPlan,
  }));
  const backRef = useRef<HTMLButtonElement>(null);
  // Keyboard users land in the plan (the button that opened it is gone), and back on its card after.
  useEffect(() => backRef.current?.focus(), []);
  const backToList = () => {
    showPlan(undefined);
    requestAnimationFrame(() =>
      document.querySelector<HTMLElement>(`[data-plan="${CSS.escape(planId)}"] h3 button`)?.focus(),
    );
  };
  const back = (
    <button type="button" ref={backRef} onClick={backToList}>
      ← All plans
    </button>
  );
  if (!view)
    return (
      <section className="plan-details">
        <div className="pane-header">{back}</div>
        {loaded && <p className="muted">This plan is gone (removed here or elsewhere).</p>}
      </section>
    );
  return (
    <section className="plan-details" aria-labelledby="plan-title">
      <div className="pane-header">
        {back}
        <h2 id="plan-title">Plan “{view.plan.name}”</h2>
        <PlanStateBadge status={view.status} />
      </div>
      <PlanActions view={view} />
      <PlanSettings view={view} />
      <ErrorNote error={error} />
      {details && <PlanOutlook details={details} />}
      <h3 id="runs-title">Run history</h3>
      {details ? <PlanRuns runs={details.runs} /> : !error && <p className="muted">Loading…</p>}
    </section>
  );
}

const WHY_NO_DESKTOP: Record<DesktopNotices, string> = {
  on: '',
  off: 'desktop notifications are off',
  denied: 'the browser blocks desktop notifications',
  unsupported: 'this browser has no desktop notifications',
};

/**
 * Which runs the plan tells of, and where they are told: in browser mode with desktop notifications off (or
 * blocked) only in this window, while it is open.
 */
function PlanNotices({ notify }: { notify: Plan['notify'] }) {
  const desktop = useApp((s) => (s.info?.host === 'web' ? s.desktopNotices : 'on'));
  if (notify === 'off' || desktop === 'on') return <>{NOTIFY_TEXT[notify]}</>;
  return (
    <>
      {NOTIFY_TEXT[notify]} <span className="muted">(shown in this window only: {WHY_NO_DESKTOP[desktop]})</span>
    </>
  );
}

function PlanSettings({ view }: { view: PlanView }) {
  const now = useNow();
  const { plan, status } = view;
  return (
    <>
      <PlanPaths plan={plan} />
      <dl className="plan-facts">
        <Fact label="Group">
          <span className="mono">host/{plan.groupId}</span>
        </Fact>
        <Fact label="Schedule">{capitalized(view.scheduleText)}</Fact>
        <Fact label="Last success">
          <When at={status.lastSuccessAt} now={now} none="never" />
        </Fact>
        <Fact label="Retention">{retentionText(plan.retention)}</Fact>
        <Fact label="Maintenance">{careText(plan)}</Fact>
        <Fact label="Notifications">
          <PlanNotices notify={plan.notify} />
        </Fact>
        <Fact label="Encryption">
          {plan.encryption ? <KeyBadge fingerprint={plan.encryption.keyFingerprint} /> : 'none'}
        </Fact>
      </dl>
    </>
  );
}

/** The next run times and the patterns the backup leaves out, side by side. */
function PlanOutlook({ details }: { details: PlanDetails }) {
  const now = useNow();
  const image = details.plan.sources.every((s) => s.kind === 'image');
  const paused = useApp((s) => s.plans.find((p) => p.plan.id === details.plan.id)?.plan.paused);
  return (
    <div className="plan-outlook">
      <section aria-labelledby="next-runs-title">
        <h3 id="next-runs-title">Next runs</h3>
        {details.nextRuns.length === 0 ? (
          <p className="muted">{paused ? 'None while paused.' : 'None: only when started with “Back up now”.'}</p>
        ) : (
          <ol className="next-runs">
            {details.nextRuns.map((t) => (
              <li key={t}>
                <When at={t} now={now} future />
              </li>
            ))}
          </ol>
        )}
      </section>
      <section aria-labelledby="excludes-title">
        <h3 id="excludes-title">Excluded</h3>
        {image ? (
          <p className="muted">A disk image is backed up whole.</p>
        ) : details.excludes.length === 0 ? (
          <p className="muted">Nothing: every file of the folder is backed up.</p>
        ) : (
          <ul className="exclude-list mono">
            {details.excludes.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
