import { useApp, useAppShallow } from '../state/use-app.js';
import { JobCard } from './JobCard.js';

/** Running jobs first, then finished ones, each with its log. */
export function TasksPanel() {
  const { jobs, order } = useAppShallow((s) => ({ jobs: s.jobs, order: s.jobOrder }));
  const cancelJob = useApp((s) => s.cancelJob);
  const clearFinished = useApp((s) => s.clearFinishedJobs);
  const running = order.filter((id) => jobs[id]?.status === 'running');
  const finished = order.filter((id) => jobs[id]?.status !== 'running');
  return (
    <aside className="tasks" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks {running.length > 0 && <span className="badge">{running.length} running</span>}</h2>
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
