import { useMemo } from 'react';
import { useAppShallow } from '../state/use-app.js';
import { RemoteBrowser } from './RemoteBrowser.js';
import { RemoteSnapshots } from './RemoteSnapshots.js';

/** The middle pane for a remote's group: its snapshots there, or the one browsed. */
export function RemotePane() {
  const { choice, listing } = useAppShallow((s) => ({
    choice: s.remoteChoice,
    listing: s.remoteChoice ? s.remoteListings[s.remoteChoice.remote]?.listing : undefined,
  }));
  const rows = useMemo(
    () => (listing?.snapshots ?? []).filter((r) => choice && `${r.type}/${r.id}` === choice.group).reverse(),
    [listing, choice],
  );
  if (!choice) return null;
  const browsed = choice.browsing ? rows.find((r) => r.path === choice.browsing) : undefined;
  if (browsed) return <RemoteBrowser key={browsed.path} remote={choice.remote} snapshot={browsed} />;
  return <RemoteSnapshots remote={choice.remote} group={choice.group} rows={rows} />;
}
