import { useApp } from '../state/use-app.js';

/**
 * Garbage collection, prune, forget and verify. Core does not provide them yet (issue #4): the buttons are
 * shown disabled and say so, rather than pretending.
 */
export function MaintenanceBar() {
  const maintenance = useApp((s) => s.info?.maintenance);
  const missing = 'Not available yet: arrives with the garbage collection work in core (issue #4).';
  return (
    <div className="maintenance" role="group" aria-label="Maintenance">
      <button type="button" disabled={!maintenance?.gc} title={maintenance?.gc ? undefined : missing}>Run garbage collection</button>
      <button type="button" disabled={!maintenance?.prune} title={maintenance?.prune ? undefined : missing}>Prune…</button>
      <button type="button" disabled={!maintenance?.verify} title={maintenance?.verify ? undefined : missing}>Verify</button>
      {!(maintenance?.gc && maintenance.prune && maintenance.verify) && <span className="muted small">{missing}</span>}
    </div>
  );
}
