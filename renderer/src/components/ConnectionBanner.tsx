import { useEffect, useState } from 'react';
import type { ConnectionState } from '../api/client.js';
import { useApp } from '../state/use-app.js';

/**
 * Says at once when the host went away (browser mode: it was stopped or is restarting) and that the page comes
 * back by itself; or that the host no longer takes this page's key. Nothing shows while all is well.
 */
export function ConnectionBanner() {
  const client = useApp((s) => s.client);
  const [state, setState] = useState<ConnectionState>('connected');
  useEffect(() => client.onConnection(setState), [client]);
  if (state === 'connected') return null;
  return (
    <div className="connection-banner" role="alert" data-state={state}>
      {state === 'lost' ? (
        <>
          <strong>Connection to Cairn lost.</strong> The host is not answering (stopped or restarting); this page
          reconnects by itself when it is back. Running jobs go on in the host.
        </>
      ) : (
        <>
          <strong>This page&apos;s key is no longer accepted.</strong> The host was started with a new key: open the
          address it printed.
        </>
      )}
    </div>
  );
}
