import type { ReactNode } from 'react';
import { formatCount, plural } from '../../../contract/format.js';
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

/**
 * What the last run could not back up: the entries its snapshot lacks, the first of them by name, so that the
 * user can give Cairn access to them or exclude them. Nothing when the last run took everything.
 */
export function LeftOutNote({ status }: { status: PlanStatus }) {
  const leftOut = status.leftOut;
  if (status.state !== 'incomplete' || !leftOut) return null;
  const { count, named } = leftOut;
  const more = count - named.length;
  return (
    <div className="left-out-note" role="alert">
      <p>
        The last run could not read {plural(count, 'entry', 'entries')}: the snapshot lacks{' '}
        {count === 1 ? 'it' : 'them'}, everything else was backed up. Give Cairn read access, or exclude{' '}
        {count === 1 ? 'it' : 'them'} in the plan.
      </p>
      <LeftOutList
        named={named}
        more={more > 0 ? `…and ${formatCount(more)} more (the run's log in Tasks names them)` : ''}
      />
    </div>
  );
}

/** Entries a backup left out (or would), each with its reason, and a line for those not named. */
export function LeftOutList({ named, more }: { named: readonly { path: string; reason: string }[]; more: string }) {
  return (
    <ul>
      {named.map((e) => (
        <li key={e.path}>
          <span className="mono">{e.path}</span> <span className="muted">{e.reason}</span>
        </li>
      ))}
      {more && <li className="muted">{more}</li>}
    </ul>
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
