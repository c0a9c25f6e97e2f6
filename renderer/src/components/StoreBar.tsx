import { formatBytes, formatDuration, formatIsoTime } from '../../../contract/format.js';
import type { LastGc } from '../../../contract/model.js';
import { freshestUsage, usageWords } from '../store-size-words.js';
import { useApp, useAppShallow } from '../state/use-app.js';

/**
 * Store-wide maintenance: one-click garbage collection (its mark and sweep progress appear on the job card in
 * Tasks), verify everything, and what the last GC found.
 */
export function StoreBar() {
  const { store, gc, startJob, jobs } = useAppShallow((s) => ({
    store: s.store!,
    gc: s.gcStatus,
    startJob: s.startJob,
    jobs: s.jobs,
  }));
  const jobOrder = useApp((s) => s.jobOrder);
  const missing = useApp((s) => s.storeMissing !== undefined);
  const running = (kind: string) =>
    jobOrder.some((id) => jobs[id]?.kind === kind && jobs[id]?.status === 'running' && jobs[id]?.store === store.path);
  return (
    <div className="store-bar" role="group" aria-label="Datastore maintenance">
      <button
        type="button"
        className="primary"
        disabled={missing || running('gc')}
        onClick={() => void startJob({ kind: 'gc', store: store.path })}
      >
        {running('gc') ? 'Garbage collection running…' : 'Run garbage collection'}
      </button>
      <button
        type="button"
        disabled={missing || running('verify')}
        onClick={() => void startJob({ kind: 'verify', store: store.path })}
      >
        Verify all snapshots
      </button>
      {/* What is not known is not shown: a missing store's size and last GC (rather than "never" or "counting"), and
          the last GC before the host has answered. */}
      {!missing && <StoreSize />}
      {!missing && gc && (
        <span className="muted small" aria-label="Last garbage collection">
          {lastGcText(gc)}
        </span>
      )}
    </div>
  );
}

/** The last GC in words: "never" only when the store has no status file; one Cairn cannot read is unknown. */
function lastGcText(gc: LastGc): string {
  switch (gc.kind) {
    case 'never':
      return 'No garbage collection has run on this store yet.';
    case 'unknown':
      return "Last garbage collection unknown (the store's .gc-status is not one Cairn wrote, e.g. PBS's, or is damaged).";
    case 'ran': {
      const r = gc.summary;
      return (
        `Last GC ${formatIsoTime(r.startedAt)}: freed ${formatBytes(r.removedBytes)}, ${formatBytes(r.pendingBytes)} pending, ` +
        `${formatBytes(r.diskBytes)} in use, dedup ${r.dedupFactor.toFixed(2)}×, took ${formatDuration(r.durationMs / 1000)}`
      );
    }
  }
}

/** What the store takes on disk now: its chunks, shared by every snapshot (forgotten ones' stay until a GC). */
function StoreSize() {
  const counted = useApp((s) => s.storeUsage);
  const sampled = useApp((s) => s.dashboard?.sizeHistory.at(-1));
  const counting = useApp((s) => s.storeUsageCounting);
  const usage = freshestUsage(counted, sampled);
  return (
    <span
      className="small store-size"
      aria-label="Datastore size"
      title="The chunk files the store holds now, compressed and shared by all its snapshots (the store's folder takes more on the disk: its 65,536 chunk folders). Chunks of forgotten snapshots stay until garbage collection removes them."
    >
      <span className="figure">{usage ? `Store size: ${usageWords(usage)}` : 'Store size: counting…'}</span>
      {/* Always there, seen only while a count runs: the bar keeps its width, so nothing after it moves. */}
      {usage && (
        <span className={`recount${counting ? ' on' : ''}`} aria-hidden={!counting}>
          {' '}
          (recounting…)
        </span>
      )}
    </span>
  );
}
