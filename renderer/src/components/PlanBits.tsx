import type { ReactNode } from 'react';
import type { Plan, PlanStatus } from '../../../contract/plans.js';
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

/** One fact of a plan: a label over its value. */
export function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** What a plan backs up and where to: each of its sources and its datastore. */
export function PlanPaths({ plan }: { plan: Plan }) {
  return (
    <dl className="plan-facts paths">
      {plan.sources.map((source) => (
        <Fact key={source.path} label={source.kind === 'image' ? 'Disk image' : 'Folder'}>
          <span className="mono">{source.path}</span>
        </Fact>
      ))}
      <Fact label="Datastore">
        <span className="mono">{plan.store}</span>
      </Fact>
    </dl>
  );
}
