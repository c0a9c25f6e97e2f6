import { useApp, useAppShallow } from '../state/use-app.js';
import { formatBytes, formatTime, plural } from '../format.js';
import { ErrorNote } from './ErrorNote.js';

/** Backup groups of the open store; choosing one shows its snapshots. */
export function GroupsList() {
  const { groups, selected, error, selectGroup } = useAppShallow((s) => ({
    groups: s.groups, selected: s.selectedGroup, error: s.groupsError, selectGroup: s.selectGroup,
  }));
  const openBackupDialog = useApp((s) => s.openBackupDialog);
  const refreshGroups = useApp((s) => s.refreshGroups);
  return (
    <nav className="groups" aria-labelledby="groups-title">
      <div className="pane-header">
        <div className="row">
          <h2 id="groups-title" className="grow">Backup groups</h2>
          <button type="button" onClick={() => void refreshGroups()} title="Read the store again (backups made elsewhere, by the CLI)">Refresh</button>
        </div>
        <button type="button" className="primary" onClick={() => openBackupDialog()}>Back up a folder…</button>
      </div>
      <ErrorNote error={error} />
      {groups.length === 0 && !error && <p className="muted">No backups yet. Drop a folder on this window, or use “Back up a folder…”.</p>}
      <ul role="listbox" aria-label="Backup groups" className="group-list">
        {groups.map((g) => (
          <li key={g.path} role="option" aria-selected={g.path === selected} tabIndex={0}
            className={g.path === selected ? 'selected' : undefined}
            onClick={() => void selectGroup(g.path)}
            onKeyDown={(e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); void selectGroup(g.path); } }}>
            <span className="group-name"><span className="badge">{g.type}</span> {g.id}</span>
            <span className="group-meta">{plural(g.snapshotCount, 'snapshot')} · {formatBytes(g.lastSize)}</span>
            <span className="group-meta">last <span className="nowrap">{formatTime(g.lastBackup)}</span></span>
          </li>
        ))}
      </ul>
    </nav>
  );
}
