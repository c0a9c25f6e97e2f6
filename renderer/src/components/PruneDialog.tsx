import { useState } from 'react';
import type { JobState } from '../../../contract/jobs.js';
import type { GroupRow, KeepOptions } from '../../../contract/model.js';
import { formatCount, plural } from '../../../contract/format.js';
import { jobSummary } from '../../../contract/job-summary.js';
import { RULES, usePruneSimulator, type KeepFields } from '../hooks/use-prune-simulator.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { useOwnJobError } from '../state/use-job-error.js';
import { ErrorNote } from './ErrorNote.js';
import { Modal } from './Modal.js';
import { PruneList } from './PruneList.js';

/** Prune with a simulator: every snapshot's keep/remove and why, before anything is removed. */
export function PruneDialog({ group, onClose }: { group: GroupRow; onClose: () => void }) {
  const { store, startJob } = useAppShallow((s) => ({
    store: s.store!.path,
    startJob: s.startJob,
  }));
  const jobError = useOwnJobError();
  const [jobId, setJobId] = useState<string>();
  const job = useApp((s) => (jobId ? s.jobs[jobId] : undefined));
  const { keep, setRule, rows, error, simulate, options, removing } = usePruneSimulator(group);

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

  return (
    <Modal title={`Prune ${group.path}`} onClose={onClose} wide>
      <KeepRulesForm keep={keep} setRule={setRule} simulate={() => void simulate()} />
      <ErrorNote error={error ?? jobError} />
      {rows && (
        <>
          <p aria-live="polite">{pruneStatus(job, removing, rows.length)}</p>
          <PruneList rows={rows} />
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

/** One number field per keep rule, and Simulate (Enter in a field simulates too). */
function KeepRulesForm({
  keep,
  setRule,
  simulate,
}: {
  keep: KeepFields;
  setRule(key: keyof KeepOptions, value: string): void;
  simulate(): void;
}) {
  return (
    <form
      className="row"
      onSubmit={(e) => {
        e.preventDefault();
        simulate();
      }}
    >
      {RULES.map(([key, label]) => (
        <label key={key} className="keep-field">
          {label}
          <input type="number" min={0} value={keep[key]} onChange={(e) => setRule(key, e.target.value)} />
        </label>
      ))}
      <button type="submit">Simulate</button>
    </form>
  );
}

/** What the simulation would remove, or once the prune runs, how far it is and then how it ended. */
function pruneStatus(job: JobState | undefined, removing: number, count: number): string | undefined {
  if (!job)
    return `${formatCount(removing)} of ${plural(count, 'snapshot')} would be removed. Nothing has been removed yet.`;
  if (job.status === 'running')
    return `Pruning… ${formatCount(job.progress.done ?? 0)} of ${formatCount(job.progress.total ?? removing)} removed`;
  return jobSummary(job) ?? job.error?.message;
}
