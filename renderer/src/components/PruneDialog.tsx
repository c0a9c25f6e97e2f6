import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { GroupRow, KeepOptions, PruneRow } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { formatCount, formatTime, plural } from '../../../contract/format.js';
import { jobSummary } from '../../../contract/job-summary.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';

const RULES: [keyof KeepOptions, string][] = [
  ['keepLast', 'Keep last'],
  ['keepHourly', 'Hourly'],
  ['keepDaily', 'Daily'],
  ['keepWeekly', 'Weekly'],
  ['keepMonthly', 'Monthly'],
  ['keepYearly', 'Yearly'],
];

/** Prune with a simulator: every snapshot's keep/remove and why, before anything is removed. */
export function PruneDialog({ group, onClose }: { group: GroupRow; onClose: () => void }) {
  const { client, store } = useAppShallow((s) => ({ client: s.client, store: s.store!.path }));
  const startJob = useApp((s) => s.startJob);
  const [jobId, setJobId] = useState<string>();
  const job = useApp((s) => (jobId ? s.jobs[jobId] : undefined));
  const jobError = useApp((s) => s.jobError);
  const [keep, setKeep] = useState<Record<keyof KeepOptions, string>>({
    keepLast: '3',
    keepHourly: '',
    keepDaily: '7',
    keepWeekly: '4',
    keepMonthly: '6',
    keepYearly: '',
  });
  const [rows, setRows] = useState<PruneRow[]>();
  const [error, setError] = useState<AppErrorInfo>();
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows?.length ?? 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 28,
    overscan: 10,
  });

  const options = (): KeepOptions =>
    Object.fromEntries(RULES.flatMap(([k]) => (keep[k].trim() === '' ? [] : [[k, Number(keep[k])]])));
  const simulate = async () => {
    try {
      setRows(await client.simulatePrune({ store, group: { type: group.type, id: group.id }, keep: options() }));
      setError(undefined);
    } catch (err) {
      setError(errorInfo(err));
    }
  };
  // The real prune is a job (off the host's main thread); its card in Tasks has the log.
  const prune = async () => {
    const started = await startJob({
      kind: 'prune',
      store,
      group: { type: group.type, id: group.id },
      keep: options(),
    });
    if (started) setJobId(started.id);
  };
  const removing = rows?.filter((r) => r.outcome === 'would-remove').length ?? 0;

  return (
    <Modal title={`Prune ${group.path}`} onClose={onClose} wide>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void simulate();
        }}
      >
        {RULES.map(([key, label]) => (
          <label key={key} className="keep-field">
            {label}
            <input
              type="number"
              min={0}
              value={keep[key]}
              onChange={(e) => {
                setKeep({ ...keep, [key]: e.target.value });
                setRows(undefined);
              }}
            />
          </label>
        ))}
        <button type="submit">Simulate</button>
      </form>
      <ErrorNote error={error ?? jobError} />
      {rows && (
        <>
          <p aria-live="polite">
            {job
              ? job.status === 'running'
                ? `Pruning… ${formatCount(job.progress.done ?? 0)} of ${formatCount(job.progress.total ?? removing)} removed`
                : (jobSummary(job) ?? job.error?.message)
              : `${formatCount(removing)} of ${plural(rows.length, 'snapshot')} would be removed. Nothing has been removed yet.`}
          </p>
          <div ref={scrollRef} className="prune-list" role="list" aria-label="Prune simulation">
            <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
              {virtualizer.getVirtualItems().map((item) => {
                const r = rows[item.index]!;
                return (
                  <div
                    key={item.key}
                    role="listitem"
                    className={`prune-row ${r.mark === 'remove' ? 'remove' : 'keep'}`}
                    style={{ transform: `translateY(${item.start}px)` }}
                  >
                    <span>{formatTime(r.time)}</span>
                    <strong>{r.outcome === 'would-remove' ? 'remove' : r.outcome}</strong>
                    <span className="muted ellipsis">{r.error ?? r.reason}</span>
                  </div>
                );
              })}
            </div>
          </div>
        </>
      )}
      <footer className="modal-footer">
        <button type="button" onClick={onClose}>
          Close
        </button>
        <button
          type="button"
          className="danger"
          disabled={!rows || job !== undefined || removing === 0}
          onClick={() => void prune()}
        >
          Prune {plural(removing, 'snapshot')}
        </button>
      </footer>
    </Modal>
  );
}
