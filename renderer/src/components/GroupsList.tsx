import { useRef, type KeyboardEvent } from 'react';
import type { GroupRow } from '../../../contract/model.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { formatBytes, formatTime, plural } from '../../../contract/format.js';
import { ErrorNote } from './ErrorNote.js';
import { movedIndex } from './list-keys.js';
import { KeyBadge } from './KeyBadge.js';
import { RemoteGroups } from './RemoteGroups.js';

/** The store's overview (its dashboard), then its backup groups; choosing one shows its snapshots. */
export function GroupsList() {
  const { groups, selected, error, selectGroup } = useAppShallow((s) => ({
    groups: s.groups,
    selected: s.overviewShown || s.remoteChoice ? undefined : s.selectedGroup,
    error: s.groupsError,
    selectGroup: s.openGroup,
  }));
  const listRef = useRef<HTMLUListElement>(null);
  const selectedIndex = groups.findIndex((g) => g.path === selected);

  // Like the tables: the arrows, Home and End move the selection, and focus with it (one Tab stop, the selected group).
  const onKeyDown = (e: KeyboardEvent, index: number) => {
    const to = e.key === 'Enter' || e.key === ' ' ? index : movedIndex(e.key, index, groups.length);
    if (to === undefined) return;
    e.preventDefault();
    const group = groups[to]!;
    void selectGroup(group.path);
    listRef.current?.querySelector<HTMLElement>(`[data-group="${CSS.escape(group.path)}"]`)?.focus();
  };

  return (
    <nav className="groups" aria-labelledby="groups-title">
      <OverviewEntry />
      <GroupsHeader />
      <ErrorNote error={error} />
      {groups.length === 0 && !error && (
        <p className="muted">No backups yet. Drop a folder on this window, or use “Back up a folder…”.</p>
      )}
      <ul ref={listRef} role="listbox" aria-label="Backup groups" className="group-list">
        {groups.map((g, i) => (
          <GroupOption
            key={g.path}
            group={g}
            selected={i === selectedIndex}
            tabbable={i === Math.max(selectedIndex, 0)}
            onSelect={() => void selectGroup(g.path)}
            onKeyDown={(e) => onKeyDown(e, i)}
          />
        ))}
      </ul>
      <RemoteGroups />
    </nav>
  );
}

/** The store's dashboard, above its groups. */
function OverviewEntry() {
  const overview = useApp((s) => s.overviewShown);
  const showOverview = useApp((s) => s.showOverview);
  return (
    <button
      type="button"
      className={`overview-entry${overview ? ' selected' : ''}`}
      aria-current={overview ? 'page' : undefined}
      onClick={showOverview}
    >
      Overview
      <span className="group-meta">plans, size, growth</span>
    </button>
  );
}

/** The list's title, a refresh, and the two ways to make a backup. */
function GroupsHeader() {
  const openBackupDialog = useApp((s) => s.openBackupDialog);
  const openImageBackupDialog = useApp((s) => s.openImageBackupDialog);
  const missing = useApp((s) => s.storeMissing !== undefined);
  const refreshGroups = useApp((s) => s.refreshGroups);
  return (
    <div className="pane-header">
      <div className="row">
        <h2 id="groups-title" className="grow">
          Backup groups
        </h2>
        <button
          type="button"
          onClick={() => void refreshGroups()}
          title="Read the store again (backups made elsewhere, by the CLI)"
        >
          Refresh
        </button>
      </div>
      <button type="button" className="primary" disabled={missing} onClick={() => openBackupDialog()}>
        Back up a folder…
      </button>
      <button type="button" disabled={missing} onClick={openImageBackupDialog}>
        Back up a disk image…
      </button>
    </div>
  );
}

/** One group: its name, its key if encrypted, and how many snapshots it has and when the last was made. */
function GroupOption(props: {
  group: GroupRow;
  selected: boolean;
  tabbable: boolean;
  onSelect(): void;
  onKeyDown(e: KeyboardEvent): void;
}) {
  const { group: g, selected } = props;
  return (
    <li
      role="option"
      aria-selected={selected}
      tabIndex={props.tabbable ? 0 : -1}
      data-group={g.path}
      className={[selected ? 'selected' : '', g.snapshotCount === 0 ? 'empty' : ''].join(' ').trim() || undefined}
      onClick={props.onSelect}
      onKeyDown={props.onKeyDown}
    >
      <span className="group-name">
        <span className="badge">{g.type}</span> {g.id}
      </span>
      {g.encrypted && (
        <span className="group-meta group-key">
          <KeyBadge fingerprint={g.keyFingerprint} />
        </span>
      )}
      <GroupCounts group={g} />
    </li>
  );
}

/**
 * How many snapshots, the newest one's size and time. An unfinished snapshot (a backup running now, or one cut
 * short) is named as such, never counted as a backup.
 */
function GroupCounts({ group: g }: { group: GroupRow }) {
  const unfinished = g.unfinishedCount ?? 0;
  const finished = g.snapshotCount - unfinished;
  if (g.snapshotCount === 0) return <span className="group-meta warn">empty: no snapshots</span>;
  const extra = unfinished > 0 ? ` (+${unfinished} unfinished)` : '';
  if (finished === 0) return <span className="group-meta warn">no finished snapshot yet{extra}</span>;
  return (
    <>
      <span className="group-meta">
        {plural(finished, 'snapshot')}
        {extra} · {formatBytes(g.lastSize)}
      </span>
      <span className="group-meta">
        last <span className="nowrap">{formatTime(g.lastBackup)}</span>
      </span>
    </>
  );
}
