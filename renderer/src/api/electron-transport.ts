import type { RawApi } from '../../../contract/actions.js';
import type { EventSubscriptions, PreloadExtras } from '../../../contract/events.js';
import type { Transport } from './client.js';

export type PreloadApi = RawApi & EventSubscriptions & PreloadExtras;

declare global {
  interface Window {
    /** Set by the Electron preload (contextBridge); absent in browser mode. */
    cairn?: PreloadApi;
  }
}

/** Electron: the preload's named functions; downloads go through the native save dialog instead of a URL. */
export function createElectronTransport(api: PreloadApi): Transport {
  return {
    raw: api,
    onJobProgress: (l) => api.onJobProgress(l),
    onJobDone: (l) => api.onJobDone(l),
    onStoreChanged: (l) => api.onStoreChanged(l),
    onPlansChanged: (l) => api.onPlansChanged(l),
    onPlanNotice: (l) => api.onPlanNotice(l),
    onSearchUpdate: (l) => api.onSearchUpdate(l),
    pathOfDroppedFile: (file) => api.getPathForFile(file) || undefined,
    downloadUrl: () => undefined,
  };
}
