import { memo, useState } from 'react';
import type { JobState } from '../../../contract/jobs.js';
import { formatBytes, formatCount, formatDuration, formatRate } from '../format.js';

/** The fraction done of a job, from bytes where it has them, else from its counter; undefined while unknown. */
export function jobFraction(job: JobState): number | undefined {
  const p = job.progress;
  if (job.status === 'done') return 1;
  if (p.bytesTotal) return Math.min(1, (p.bytesDone ?? 0) / p.bytesTotal);
  if (p.total) return Math.min(1, (p.done ?? 0) / p.total);
  return undefined;
}

const STATUS_TEXT = { running: 'Running', done: 'Done', failed: 'Failed', cancelled: 'Cancelled' } as const;

/** One job: progress bar, counters, rate, ETA, current file; cancel while it runs; result, error and log after. */
export const JobCard = memo(function JobCard({ job, onCancel }: { job: JobState; onCancel: (id: string) => void }) {
  const [showLog, setShowLog] = useState(false);
  const p = job.progress;
  const fraction = jobFraction(job);
  const percent = fraction === undefined ? undefined : Math.floor(fraction * 100);
  return (
    <article className={`job-card ${job.status}`} aria-label={job.title} data-job-kind={job.kind} data-status={job.status}>
      <header>
        <strong>{job.title}</strong>
        <span className={`status ${job.status}`}>{STATUS_TEXT[job.status]}{job.status === 'running' ? ` · ${p.phase}` : ''}</span>
      </header>
      {job.status === 'running' && (
        <>
          <div className="progress" role="progressbar" aria-label={`${job.title} progress`} aria-valuemin={0} aria-valuemax={100}
            aria-valuenow={percent} aria-valuetext={percent === undefined ? p.phase : `${percent}%`}>
            <div className="progress-fill" style={{ width: `${percent ?? 0}%` }} />
          </div>
          <div className="job-counters">
            {p.filesTotal !== undefined && <span>{formatCount(p.filesDone)} / {formatCount(p.filesTotal)} files</span>}
            {p.bytesTotal !== undefined && <span>{formatBytes(p.bytesDone)} / {formatBytes(p.bytesTotal)}</span>}
            {p.total !== undefined && <span>{formatCount(p.done)} / {formatCount(p.total)}</span>}
            {p.rate !== undefined && <span>{formatRate(p.rate)}</span>}
            <span>{p.etaSeconds !== undefined ? `about ${formatDuration(p.etaSeconds)} left` : 'estimating time left…'}</span>
            {p.newBytes !== undefined && <span>{formatBytes(p.newBytes)} new · {formatBytes((p.dedupBytes ?? 0) + (p.bytesReused ?? 0))} deduplicated</span>}
          </div>
          {p.currentPath && <div className="current-file ellipsis" title={p.currentPath}>{p.currentPath}</div>}
          <button type="button" onClick={() => onCancel(job.id)}>Cancel</button>
        </>
      )}
      {job.summary && job.status !== 'running' && <p className="job-summary">{job.summary}</p>}
      {job.error && <p className="error-note" role="alert" data-code={job.error.code}>{job.error.message}</p>}
      {job.log.length > 0 && (
        <>
          <button type="button" className="link" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
            {showLog ? 'Hide log' : `Show log (${job.log.length})`}
          </button>
          {showLog && (
            <ol className="job-log">
              {job.log.map((l, i) => <li key={i} className={l.level}>{new Date(l.time).toLocaleTimeString()} {l.level === 'info' ? '' : `${l.level}: `}{l.message}</li>)}
            </ol>
          )}
        </>
      )}
    </article>
  );
});
