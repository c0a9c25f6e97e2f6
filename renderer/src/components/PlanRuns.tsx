import { Fragment } from 'react';
import type { PlanRun } from '../../../contract/plans.js';
import { formatBytes, formatCount, formatDuration, formatTime, plural } from '../../../contract/format.js';
import { maintenanceText, RESULT_TEXT, triggerText } from '../plan-words.js';

/** A plan's runs, newest first: when, how long, why, how it ended, what it made and did; a failure's error below. */
export function PlanRuns({ runs }: { runs: PlanRun[] }) {
  if (runs.length === 0) return <p className="muted">No runs yet. “Back up now” starts one.</p>;
  return (
    <div className="runs-scroll">
      <table className="runs" aria-labelledby="runs-title">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Trigger</th>
            <th scope="col">Result</th>
            <th scope="col">Snapshot</th>
            <th scope="col" className="num">
              Files
            </th>
            <th scope="col" className="num">
              New data
            </th>
            <th scope="col" className="num">
              Pruned
            </th>
            <th scope="col">GC / verify</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <RunRow key={`${run.startedAt}-${run.trigger}`} run={run} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RunRow({ run }: { run: PlanRun }) {
  // A run that made its snapshot without some entries: "Incomplete", not "Succeeded".
  const incomplete = run.status === 'succeeded' && (run.leftOut ?? 0) > 0;
  return (
    <Fragment>
      <tr className={`run ${incomplete ? 'incomplete' : run.status}`}>
        <td className="nowrap">{formatTime(run.startedAt / 1000)}</td>
        <td className="nowrap">{formatDuration((run.endedAt - run.startedAt) / 1000)}</td>
        <td className="nowrap">{triggerText(run.trigger)}</td>
        <td className="run-result">{incomplete ? 'Incomplete' : RESULT_TEXT[run.status]}</td>
        <td className="nowrap" title={run.snapshot}>
          {run.snapshot ? snapshotTime(run.snapshot, run.startedAt) : '–'}
        </td>
        <td className="num">{formatCount(run.files)}</td>
        <td className="num nowrap">{formatBytes(run.newBytes)}</td>
        <td className="num">{formatCount(run.pruned)}</td>
        <td className="nowrap">{maintenanceText(run) || '–'}</td>
      </tr>
      {run.error && (
        <tr className="run-error">
          <td colSpan={9}>{run.error}</td>
        </tr>
      )}
      {incomplete && (
        <tr className="run-left-out">
          <td colSpan={9}>
            Could not read {plural(run.leftOut!, 'entry', 'entries')}, not in the snapshot:{' '}
            {(run.leftOutNamed ?? []).map((e) => `${e.path} (${e.reason})`).join(', ')}
            {run.leftOut! > (run.leftOutNamed?.length ?? 0) ? ', …' : ''}
          </td>
        </tr>
      )}
    </Fragment>
  );
}

/**
 * A snapshot by its time, local as the snapshots table shows it (the plan's group is known; its path is the
 * tooltip), without the date when it is the run's own.
 */
function snapshotTime(path: string, startedAt: number): string {
  const ms = Date.parse(path.split('/').pop() ?? '');
  if (Number.isNaN(ms)) return path;
  const time = formatTime(ms / 1000);
  return time.slice(0, 10) === formatTime(startedAt / 1000).slice(0, 10) ? time.slice(11) : time;
}
