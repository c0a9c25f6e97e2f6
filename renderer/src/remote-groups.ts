import type { RemoteSnapshotRow } from '../../contract/remotes.js';

/** One group of a remote, as the groups list shows it. */
export interface RemoteGroupRow {
  /** `type/id` */
  path: string;
  type: string;
  id: string;
  /** Complete snapshots there, and how many of them the open store has too. */
  complete: number;
  here: number;
  /** Snapshots a push left unfinished (a rerun completes them). */
  incomplete: number;
  last?: number;
}

/** A remote's snapshots by group, in the listing's order (type, id). */
export function remoteGroups(snapshots: readonly RemoteSnapshotRow[]): RemoteGroupRow[] {
  const groups = new Map<string, RemoteGroupRow>();
  for (const s of snapshots) {
    const path = `${s.type}/${s.id}`;
    const g = groups.get(path) ?? { path, type: s.type, id: s.id, complete: 0, here: 0, incomplete: 0 };
    if (s.finished) {
      g.complete++;
      if (s.local) g.here++;
      g.last = Math.max(g.last ?? 0, s.time);
    } else g.incomplete++;
    groups.set(path, g);
  }
  return [...groups.values()];
}

/** "3 snapshots · 2 here too", "1 snapshot · only there". */
export function whereWords(g: RemoteGroupRow): string {
  const count = `${g.complete} snapshot${g.complete === 1 ? '' : 's'}`;
  if (g.complete === 0) return g.incomplete > 0 ? 'unfinished push' : 'empty';
  if (g.here === g.complete) return `${count} · all here too`;
  return g.here === 0 ? `${count} · only there` : `${count} · ${g.here} here too`;
}
