import { join } from 'node:path';
import * as electron from 'electron';
import { appVersion } from '../host/app-version.js';
import { HostService } from '../host/host-service.js';
import { defaultAllowedRoots } from '../host/path-policy.js';
import { appMenuTemplate } from './app-menu.js';
import { handleAppProtocol, registerAppScheme } from './app-protocol.js';
import { forwardEvents, registerIpcHandlers } from './ipc.js';
import { nativeDialogs } from './native-dialogs.js';
import { guardQuit } from './quit-guard.js';
import { APP_ENTRY, denyAllPermissions, lockDownContents } from './security.js';

/**
 * The Electron main process: one instance, one window showing the renderer from app://, the host service
 * behind IPC, jobs on worker threads. Main itself only wires things together.
 */
export function startCairnApp(): void {
  const { app, BrowserWindow, Menu, dialog, ipcMain, protocol, session } = electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit(); // a second instance hands over to the first (which shows its window) and leaves
    return;
  }
  registerAppScheme(protocol);
  // Tests (and portable setups) keep the app's data, e.g. recent stores, in a folder of their own.
  if (process.env.CAIRN_USER_DATA) app.setPath('userData', process.env.CAIRN_USER_DATA);

  let window: electron.BrowserWindow | undefined;
  // The app's folder (the asar when packaged): package.json, dist/.
  const root = app.getAppPath();
  const service = new HostService({
    platform: { host: 'electron', ...nativeDialogs(dialog, () => window) },
    dataDir: app.getPath('userData'),
    allowedRoots: defaultAllowedRoots(),
    version: appVersion(root),
  });

  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('web-contents-created', (_event, contents) => lockDownContents(contents));
  guardQuit(app, dialog, service, () => window);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  const createWindow = () => {
    window = new BrowserWindow({
      width: 1280,
      height: 820,
      minWidth: 900,
      minHeight: 560,
      show: false,
      title: 'Cairn',
      webPreferences: {
        preload: join(root, 'dist', 'electron', 'preload.cjs'),
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        spellcheck: false,
      },
    });
    const stopForwarding = forwardEvents(service, window.webContents);
    window.once('ready-to-show', () => window?.show());
    window.on('closed', () => {
      stopForwarding();
      window = undefined;
    });
    void window.loadURL(APP_ENTRY);
  };

  void app.whenReady().then(() => {
    denyAllPermissions(session.defaultSession);
    handleAppProtocol(protocol, join(root, 'dist', 'renderer'));
    registerIpcHandlers(ipcMain, service);
    Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate(process.platform, app.getName())));
    createWindow();
    app.on('activate', () => {
      if (!window) createWindow();
    });
  });
}
