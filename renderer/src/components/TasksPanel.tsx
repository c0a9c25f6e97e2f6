import { useEffect, useRef, useState } from 'react';
import { useApp, useAppShallow } from '../state/use-app.js';
import { JobCard } from './JobCard.js';

const COLLAPSED_KEY = 'cairn.tasksCollapsed';
/** Below this window width the panel starts folded away: the snapshot table needs the room. */
const NARROW_PX = 1200;

/**
 * Running jobs first, then finished ones, each with its log. The panel folds to a strip (remembered); it opens by
 * itself when the user starts a job, so its progress is not out of sight.
 */
export function TasksPanel() {
  const { jobs, order } = useAppShallow((s) => ({ jobs: s.jobs, order: s.jobOrder }));
  const cancelJob = useApp((s) => s.cancelJob);
  const clearFinished = useApp((s) => s.clearFinishedJobs);
  const running = order.filter((id) => jobs[id]?.status === 'running');
  const finished = order.filter((id) => jobs[id]?.status !== 'running');
  const tasksAsked = useApp((s) => s.tasksAsked);
  const [collapsed, setCollapsed] = useCollapsed(running.length, tasksAsked);
  // Folded by "Hide": the focus moves to the strip's button, since "Hide" is gone.
  const [hidden, setHidden] = useState(false);
  if (collapsed) {
    const needLook = finished.filter((id) => jobs[id]?.status === 'failed' || jobs[id]?.status === 'attention');
    return (
      <FoldedTasks
        running={running.length}
        needLook={needLook.length}
        focus={hidden}
        unfold={() => (setCollapsed(false), setHidden(false))}
      />
    );
  }
  return (
    <aside className="tasks" aria-labelledby="tasks-title">
      <div className="row tasks-head">
        <h2 id="tasks-title">Tasks {running.length > 0 && <span className="badge">{running.length} running</span>}</h2>
        <button
          type="button"
          className="link"
          aria-label="Hide tasks"
          onClick={() => (setCollapsed(true), setHidden(true))}
        >
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

/** The folded panel: its name, how many jobs run, and whether a finished one failed or needs attention. */
function FoldedTasks(props: { running: number; needLook: number; focus: boolean; unfold(): void }) {
  const { running, needLook, unfold } = props;
  const label = [
    'Show tasks',
    running > 0 && `${running} running`,
    needLook > 0 && `${needLook} ${needLook === 1 ? 'needs' : 'need'} a look`,
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <aside className="tasks collapsed" aria-label="Tasks">
      <button
        type="button"
        className="tasks-unfold"
        aria-label={label}
        title={label}
        onClick={unfold}
        // Only after the user folded the panel with "Hide"
        autoFocus={props.focus}
      >
        Tasks
        {running > 0 && <span className="badge">{running}</span>}
        {needLook > 0 && <span className="badge attention">!</span>}
      </button>
    </aside>
  );
}

/**
 * Whether the panel is folded: as the user left it, else folded in a narrow window; never while a job runs at the
 * start, and unfolded when this window asks for one (a job, a plan's "Back up now"; a scheduled run does not undo
 * the user's fold).
 */
function useCollapsed(runningCount: number, tasksAsked: number): [boolean, (collapsed: boolean) => void] {
  const [collapsed, setState] = useState(() => {
    if (runningCount > 0) return false;
    const kept = localStorage.getItem(COLLAPSED_KEY);
    return kept === null ? window.innerWidth < NARROW_PX : kept === 'yes';
  });
  const set = (value: boolean) => {
    localStorage.setItem(COLLAPSED_KEY, value ? 'yes' : 'no');
    setState(value);
  };
  const seen = useRef(tasksAsked);
  useEffect(() => {
    if (tasksAsked !== seen.current) setState(false);
    seen.current = tasksAsked;
  }, [tasksAsked]);
  return [collapsed, set];
}
