import { useEffect, useRef, useState } from 'react';
import { useApp, useAppShallow } from '../state/use-app.js';
import { JobCard } from './JobCard.js';

const COLLAPSED_KEY = 'cairn.tasksCollapsed';
/** Below this window width the panel starts folded away: the snapshot table needs the room. */
const NARROW_PX = 1200;

/**
 * Running jobs first, then finished ones, each with its log. The panel folds to a strip (remembered); it opens by
 * itself when a job starts, so its progress is never out of sight.
 */
export function TasksPanel() {
  const { jobs, order } = useAppShallow((s) => ({ jobs: s.jobs, order: s.jobOrder }));
  const cancelJob = useApp((s) => s.cancelJob);
  const clearFinished = useApp((s) => s.clearFinishedJobs);
  const running = order.filter((id) => jobs[id]?.status === 'running');
  const finished = order.filter((id) => jobs[id]?.status !== 'running');
  const [collapsed, setCollapsed] = useCollapsed(running.length);
  if (collapsed)
    return (
      <aside className="tasks collapsed" aria-label="Tasks">
        <button type="button" className="tasks-unfold" aria-label="Show tasks" onClick={() => setCollapsed(false)}>
          Tasks{running.length > 0 && <span className="badge">{running.length}</span>}
        </button>
      </aside>
    );
  return (
    <aside className="tasks" aria-labelledby="tasks-title">
      <div className="row tasks-head">
        <h2 id="tasks-title">Tasks {running.length > 0 && <span className="badge">{running.length} running</span>}</h2>
        <button type="button" className="link" aria-label="Hide tasks" onClick={() => setCollapsed(true)}>
          Hide
        </button>
      </div>
      {order.length === 0 && <p className="muted">No tasks yet.</p>}
      {running.map((id) => (
        <JobCard key={id} job={jobs[id]!} onCancel={cancelJob} />
      ))}
      {finished.length > 0 && (
        <div className="row tasks-finished">
          <h3>Finished</h3>
          <button type="button" className="link" onClick={() => void clearFinished()}>
            Clear finished
          </button>
        </div>
      )}
      {finished.map((id) => (
        <JobCard key={id} job={jobs[id]!} onCancel={cancelJob} />
      ))}
    </aside>
  );
}

/**
 * Whether the panel is folded: as the user left it, else folded in a narrow window; never while a job runs at the
 * start, and unfolded when one starts.
 */
function useCollapsed(runningCount: number): [boolean, (collapsed: boolean) => void] {
  const [collapsed, setState] = useState(() => {
    const kept = localStorage.getItem(COLLAPSED_KEY);
    if (runningCount > 0) return false;
    return kept === null ? window.innerWidth < NARROW_PX : kept === 'yes';
  });
  const set = (value: boolean) => {
    localStorage.setItem(COLLAPSED_KEY, value ? 'yes' : 'no');
    setState(value);
  };
  const before = useRef(runningCount);
  useEffect(() => {
    if (runningCount > before.current) setState(false);
    before.current = runningCount;
  }, [runningCount]);
  return [collapsed, set];
}
