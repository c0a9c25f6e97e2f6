import { errorInfo } from '../../api/client.js';
import type { AppState } from '../app-state.js';

/** A pane's error, unless it says the open store is gone: that is the whole view's state, not the pane's. */
export function paneError(key: 'groupsError' | 'snapshotsError', err: unknown): Partial<AppState> {
  const info = errorInfo(err);
  return info.code === 'STORE_MISSING' ? { storeMissing: info } : { [key]: info };
}
