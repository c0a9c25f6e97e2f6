import { useState } from 'react';
import type { GroupRow } from '../../../contract/model.js';
import { useApp, useAppShallow } from '../state/use-app.js';
import { PushDialogLoader } from './lazy-remotes.js';
import type { PushRequest } from './PushDialog.js';

/** Under a group's title: how many of its snapshots each remote has, and "Push to NAME…". */
export function GroupRemotes({ group }: { group: GroupRow }) {
  const { remotes, listings } = useAppShallow((s) => ({ remotes: s.remotes, listings: s.remoteListings }));
  const here = useApp((s) => s.snapshots.filter((r) => r.finished).length);
  const [push, setPush] = useState<PushRequest>();
  if (remotes.length === 0 || group.snapshotCount === 0) return null;
  return (
    <div className="group-remotes">
      {remotes.map((r) => {
        const state = listings[r.name];
        const there = state?.listing?.snapshots.filter(
          (s) => s.finished && s.local && s.type === group.type && s.id === group.id,
        ).length;
        // A listing that failed says so (the remote may be unreachable), never "not listed yet".
        const failed = state?.loading ? undefined : state?.error;
        const words = failed
          ? `${r.name}: cannot be listed (${failed.message})`
          : remoteCopyWords(r.name, there, here, state?.loading === true);
        return (
          <span key={r.name} className="group-remote" data-remote={r.name}>
            <span className={`small${failed ? ' warn' : ''}`}>{words}</span>
            <button
              type="button"
              onClick={() => setPush({ remote: r.name, group: { type: group.type, id: group.id }, what: group.path })}
            >
              Push to {r.name}…
            </button>
          </span>
        );
      })}
      {push && <PushDialogLoader request={push} onClose={() => setPush(undefined)} />}
    </div>
  );
}

/** How many of the group's snapshots here a remote has too, in words. */
function remoteCopyWords(remote: string, there: number | undefined, here: number, loading: boolean): string {
  if (there === undefined) return loading ? `${remote}: listing…` : `${remote}: not listed yet`;
  if (here === 1) return there > 0 ? `${remote} has this snapshot too` : `${remote} does not have it yet`;
  if (there === 0) return `${remote} has none of these ${here} snapshots`;
  return there >= here ? `${remote} has all ${here} snapshots` : `${remote} has ${there} of these ${here} snapshots`;
}

/** "Push to remote…" for the snapshot chosen in the table (shown when there is a remote). */
export function PushSnapshotButton({
  row,
}: {
  row: { type: GroupRow['type']; id: string; time: number; path: string; finished: boolean };
}) {
  const hasRemotes = useApp((s) => s.remotes.length > 0);
  const [open, setOpen] = useState(false);
  if (!hasRemotes) return null;
  return (
    <>
      <button type="button" disabled={!row.finished} onClick={() => setOpen(true)}>
        Push to remote…
      </button>
      {open && (
        <PushDialogLoader
          request={{ snapshot: { type: row.type, id: row.id, time: row.time }, what: row.path }}
          onClose={() => setOpen(false)}
        />
      )}
    </>
  );
}
