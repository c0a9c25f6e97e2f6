import type { PlanStatus } from '../../../contract/plans.js';
import { stateBadge, whenText } from '../plan-words.js';

/** A plan's state as a coloured badge, with what it means as its tooltip. */
export function PlanStateBadge({ status }: { status: PlanStatus }) {
  const badge = stateBadge(status);
  return (
    <span className={`state-badge ${badge.tone}`} title={badge.title} data-state={status.state}>
      {badge.text}
    </span>
  );
}

/** A moment, relative to now and as a local time: "5 min ago (2026-11-24 21:03:07)"; `none` when there is none. */
export function When({
  at,
  now,
  none = '–',
  future,
}: {
  at: number | undefined;
  now: number;
  none?: string;
  /** A moment to come (a next run), else one past. */
  future?: boolean;
}) {
  if (at === undefined) return <span className="muted">{none}</span>;
  const { relative, absolute } = whenText(at, now, future ? 'future' : 'past');
  return (
    <time dateTime={new Date(at).toISOString()} title={absolute}>
      {relative} <span className="muted nowrap">({absolute})</span>
    </time>
  );
}
