import { SlashBreaks } from './SlashBreaks.js';
import { memo, useState } from 'react';
import { jobFraction, phaseFraction } from '../../../contract/job-fraction.js';
import { jobAdvice, jobSummary } from '../../../contract/job-summary.js';
import type { JobResult, JobState } from '../../../contract/jobs.js';
import { formatBytes, formatClock, formatCount, formatDuration, formatRate, plural } from '../../../contract/format.js';
import { phaseText } from '../job-phase.js';

function Bar({ label, fraction }: { label: string; fraction: number }) {
  const percent = Math.floor(fraction * 100);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
    >
      <div className="progress-fill" style={{ width: `${percent}%` }} />
    </div>
  );
}

/** GC's two phases, each with its own bar and counters; shown while it runs and kept after it ends. */
function GcPhases({ job }: { job: JobState }) {
  const p = job.progress;
  const sweeping = p.phase === 'sweep' || job.status === 'done';
  const markFraction = sweeping ? 1 : phaseFraction(p.indexFilesDone, p.indexFilesTotal);
  return (
    <div className="gc-phases">
      <div className="gc-phase" data-phase="mark">
        <span className="small">
          Mark: {formatCount(p.indexFilesDone)} / {formatCount(p.indexFilesTotal)} index files ·{' '}
          {formatCount(p.chunksMarked)} chunks marked
        </span>
        <Bar label="Mark phase" fraction={markFraction} />
      </div>
      <div className="gc-phase" data-phase="sweep">
        <span className="small">
          Sweep: {formatCount(sweeping ? p.prefixesDone : 0)} / {formatCount(p.prefixesTotal ?? 65536)} chunk folders ·{' '}
          {plural(p.removedChunks ?? 0, 'chunk')} removed ({formatBytes(p.removedBytes ?? 0)} freed)
        </span>
        <Bar label="Sweep phase" fraction={sweeping ? phaseFraction(p.prefixesDone, p.prefixesTotal) : 0} />
      </div>
    </div>
  );
}

function GcResult({ result: r }: { result: Extract<JobResult, { kind: 'gc' }> }) {
  const rows: [string, string][] = [
    ['Freed', `${formatBytes(r.removedBytes)} (${plural(r.removedChunks, 'chunk')})`],
    ['Pending', `${formatBytes(r.pendingBytes)} (${plural(r.pendingChunks, 'chunk')}, too recent to remove)`],
    ['In use', `${formatBytes(r.diskBytes)} (${plural(r.diskChunks, 'chunk')})`],
    ['Dedup factor', `${r.dedupFactor.toFixed(2)}×`],
    ['Duration', formatDuration(r.durationMs / 1000)],
  ];
  return (
    <dl className="gc-result" aria-label="Garbage collection result">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

const STATUS_TEXT: Record<JobState['status'], string> = {
  running: 'Running',
  done: 'Done',
  attention: 'Needs attention',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** What a job that needs attention found (damaged files, by snapshot), and how to repair it. */
function Problems({ job }: { job: JobState }) {
  const problems = job.problems ?? [];
  const more = (job.problemCount ?? problems.length) - problems.length;
  const advice = jobAdvice(job);
  return (
    <div className="job-problems" role="alert" aria-label="Problems found">
      <ul>
        {problems.slice(0, 50).map((p, i) => (
          <li key={i}>
            <span className="problem-path">{p.path}</span> <span className="muted">{p.message}</span>
          </li>
        ))}
        {problems.length > 50 && (
          <li className="muted">…and {formatCount(problems.length - 50 + Math.max(0, more))} more (see the log)</li>
        )}
        {problems.length <= 50 && more > 0 && <li className="muted">…and {formatCount(more)} more</li>}
      </ul>
      {advice && (
        <p className="advice">
          <strong>What to do:</strong> {advice}
        </p>
      )}
    </div>
  );
}

/** A running job's bar, counters, rate, ETA and current file, and its cancel button. */
function RunningJob({ job, onCancel }: { job: JobState; onCancel: (id: string) => void }) {
  const p = job.progress;
  const fraction = jobFraction(job);
  const percent = fraction === undefined ? undefined : Math.floor(fraction * 100);
  return (
    <>
      {job.kind !== 'gc' && (
        <div
          className="progress"
          role="progressbar"
          aria-label={`${job.title} progress`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={percent}
          aria-valuetext={percent === undefined ? phaseText(p.phase) : `${percent}%`}
        >
          <div className="progress-fill" style={{ width: `${percent ?? 0}%` }} />
        </div>
      )}
      <div className="job-counters">
        {p.filesTotal !== undefined && (
          <span>
            {formatCount(p.filesDone)} / {formatCount(p.filesTotal)} files
          </span>
        )}
        {p.bytesTotal !== undefined && (
          <span>
            {formatBytes(p.bytesDone)} / {formatBytes(p.bytesTotal)}
          </span>
        )}
        {p.total !== undefined && (
          <span>
            {formatCount(p.done)} / {formatCount(p.total)}
          </span>
        )}
        {p.snapshotsTotal !== undefined && (
          <span>
            {formatCount(p.snapshotsDone)} / {formatCount(p.snapshotsTotal)} snapshots
          </span>
        )}
        {(p.corruptChunks ?? 0) > 0 && <span className="warn">{formatCount(p.corruptChunks)} bad chunks</span>}
        {p.chunksTotal !== undefined && (
          <span>
            {formatCount(p.chunksDone)} / {formatCount(p.chunksTotal)} chunks
          </span>
        )}
        {p.requests !== undefined && <span>{plural(p.requests, 'request')}</span>}
        {p.rate !== undefined && <span>{formatRate(p.rate)}</span>}
        {job.kind !== 'gc' && (
          <span>
            {p.etaSeconds !== undefined ? `about ${formatDuration(p.etaSeconds)} left` : 'estimating time left…'}
          </span>
        )}
        {p.newBytes !== undefined && (
          <span>
            {formatBytes(p.newBytes)} new · {formatBytes((p.dedupBytes ?? 0) + (p.bytesReused ?? 0))} deduplicated
          </span>
        )}
      </div>
      {p.currentPath && (
        <div className="current-file ellipsis" title={p.currentPath}>
          {p.currentPath}
        </div>
      )}
      <button type="button" onClick={() => onCancel(job.id)}>
        Cancel
      </button>
    </>
  );
}

/** One job: progress bar, counters, rate, ETA, current file; cancel while it runs; result, error and log after. */
export const JobCard = memo(function JobCard({ job, onCancel }: { job: JobState; onCancel: (id: string) => void }) {
  const [showLog, setShowLog] = useState(false);
  const summary = jobSummary(job);
  return (
    <article
      className={`job-card ${job.status}`}
      aria-label={job.title}
      data-job-kind={job.kind}
      data-status={job.status}
    >
      <header>
        <strong>
          <SlashBreaks text={job.title} />
        </strong>
        <span className={`status ${job.status}`}>
          {STATUS_TEXT[job.status]}
          {job.status === 'running' ? ` · ${phaseText(job.progress.phase)}` : ''}
        </span>
      </header>
      {job.kind === 'gc' && job.status !== 'failed' && <GcPhases job={job} />}
      {job.status === 'done' && job.result?.kind === 'gc' && <GcResult result={job.result} />}
      {job.status === 'running' && <RunningJob job={job} onCancel={onCancel} />}
      {summary && job.status !== 'running' && <p className="job-summary">{summary}</p>}
      {/* A failed job names what it found before it failed too (a plan's run: the entries it left out). */}
      {(job.status === 'attention' || (job.status === 'failed' && job.problems)) && <Problems job={job} />}
      {job.error && (
        <p className="error-note" role="alert" data-code={job.error.code}>
          {job.error.message}
        </p>
      )}
      {job.log.length > 0 && (
        <>
          <button type="button" className="link" aria-expanded={showLog} onClick={() => setShowLog(!showLog)}>
            {showLog ? 'Hide log' : `Show log (${job.log.length})`}
          </button>
          {showLog && (
            <ol className="job-log">
              {job.log.map((l, i) => (
                <li key={i} className={l.level}>
                  {formatClock(l.time)} {l.level === 'info' ? '' : `${l.level}: `}
                  {l.message}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </article>
  );
});
