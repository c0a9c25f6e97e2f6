import type { AppInfo } from '../../contract/model.js';

/** What a browser-mode host says of itself, for renderer tests. */
export const WEB_APP_INFO: AppInfo = {
  host: 'web',
  version: '0.1.0',
  platform: 'linux',
  homeDir: '/home/ann',
  nativeDialogs: false,
  dropPaths: false,
  maintenance: { gc: true, prune: true, verify: true, forget: true },
};
