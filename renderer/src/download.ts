import type { SnapshotRef } from '../../contract/model.js';
import type { CairnClient } from './api/client.js';

/**
 * One file of a snapshot to the user: a download link in browser mode (streamed and verified by the host), the
 * native save dialog and a save job in the desktop app.
 */
export async function downloadEntry(
  client: CairnClient,
  store: string,
  snapshot: SnapshotRef,
  path: string,
  name: string,
): Promise<void> {
  const url = client.downloadUrl(store, snapshot, path);
  if (url) {
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.click();
    return;
  }
  await client.saveFile({ store, snapshot, path });
}
