import { join } from 'node:path';
import * as electron from 'electron';
import { cairnConfigDir } from '../core/plans/config-dir.js';
import { appVersion } from '../host/app-version.js';
import { HostService } from '../host/host-service.js';
import { defaultAllowedRoots } from '../host/path-policy.js';
import { appMenuTemplate } from './app-menu.js';
import { handleAppProtocol, registerAppScheme } from './app-protocol.js';
import { AppSettingsFile, keepsRunningInTray } from './app-settings.js';
import { AppWindow } from './app-window.js';
import { forwardEvents, registerIpcHandlers } from './ipc.js';
import { loginItem, startedHidden } from './login-item.js';
import { nativeDialogs } from './native-dialogs.js';
import { showPlanNotices } from './notifications.js';
import { watchPower } from './power.js';
import { guardQuit } from './quit-guard.js';
import { denyAllPermissions, lockDownContents } from './security.js';
import { CairnTray } from './tray.js';
import { safeStorageSecrets } from './secret-store.js';

/**
 * The Electron main process: one instance, one window showing the renderer from app://, the host service
 * behind IPC, jobs on worker threads, the user's plans scheduled here, a tray icon. Main only wires things.
 */
export function startCairnApp(): void {
  const { app, dialog, protocol } = electron;
  if (!app.requestSingleInstanceLock()) {
    app.quit(); // a second instance hands over to the first (which shows its window) and leaves
    return;
  }
  registerAppScheme(protocol);
  // Windows shows notifications only for an app with this id (the installer gives its shortcut the same one).
  if (process.platform === 'win32') app.setAppUserModelId('org.cairn-backup.cairn');
  // Tests (and portable setups) keep the app's data, e.g. recent stores, in a folder of their own.
  if (process.env.CAIRN_USER_DATA) app.setPath('userData', process.env.CAIRN_USER_DATA);

  // The app's folder (the asar when packaged): package.json, dist/, electron/assets/.
  const root = app.getAppPath();
  const preload = join(root, 'dist', 'electron', 'preload.cjs');
  // The window forwards the host's events; the host's dialogs open over the window: each looks the other up later.
  const appWindow: AppWindow = new AppWindow(electron.BrowserWindow, preload, (c) => forwardEvents(service, c));
  const service: HostService = new HostService({
    platform: { host: 'electron', ...nativeDialogs(dialog, () => appWindow.current) },
    dataDir: app.getPath('userData'),
    allowedRoots: defaultAllowedRoots(),
    version: appVersion(root),
    plans: {
      configDir: cairnConfigDir(),
      where: 'the desktop app',
      onBattery: () => electron.powerMonitor.isOnBatteryPower(),
    },
    keys: { configDir: cairnConfigDir(), secretStore: safeStorageSecrets(electron.safeStorage) },
  });
  const settings = new AppSettingsFile(app.getPath('userData'));
  const keepInTray = () => keepsRunningInTray(settings.read(), service.hasPlans());

  app.on('second-instance', () => void app.whenReady().then(() => appWindow.show()));
  app.on('web-contents-created', (_event, contents) => lockDownContents(contents));
  guardQuit(app, dialog, service, () => appWindow.current);
  app.on('window-all-closed', () => {
    if (keepInTray()) return; // the tray keeps Cairn, and with it the plans' scheduler, running
    if (process.platform !== 'darwin') app.quit();
  });

  void app.whenReady().then(() => {
    denyAllPermissions(electron.session.defaultSession);
    handleAppProtocol(protocol, join(root, 'dist', 'renderer'));
    // safeStorage opens sealed keys only once the app is ready.
    service.unlockRememberedKeys();
    registerIpcHandlers(electron.ipcMain, service);
    installAppMenu(service, settings, keepInTray);
    watchPower(electron.powerMonitor, electron.powerSaveBlocker, service);
    showPlanNotices(electron.Notification, service, () => appWindow.show());
    startTray(service, root, appWindow);
    service.startScheduler();
    if (!startedHidden(process.argv, { app, platform: process.platform })) appWindow.show();
    app.on('activate', () => appWindow.show());
  });
}

/** The application menu, made again when a switch in it changes (or, unset, keep-in-tray follows the plans). */
function installAppMenu(service: HostService, settings: AppSettingsFile, keepInTray: () => boolean): void {
  const { app, dialog, Menu } = electron;
  const login = loginItem({ app, platform: process.platform, env: process.env, execPath: process.execPath });
  let shownKeep: boolean | undefined;
  const install = () => {
    shownKeep = keepInTray();
    const options = {
      keepInTray: shownKeep,
      openAtLogin: login.isEnabled(),
      setKeepInTray: (on: boolean) => {
        settings.update({ keepInTray: on });
        install();
      },
      setOpenAtLogin: (on: boolean) => {
        try {
          login.setEnabled(on);
        } catch (err) {
          dialog.showErrorBox('Cannot change the start at login', (err as Error).message);
        }
        install();
      },
    };
    Menu.setApplicationMenu(Menu.buildFromTemplate(appMenuTemplate(process.platform, app.getName(), options)));
  };
  install();
  service.subscribe((event) => {
    if (event === 'plans.changed' && keepInTray() !== shownKeep) install();
  });
}

function startTray(service: HostService, root: string, appWindow: AppWindow): CairnTray {
  const { app, dialog, Menu, Tray, nativeImage } = electron;
  return new CairnTray({
    Tray,
    Menu,
    nativeImage,
    iconDir: join(root, 'electron', 'assets'),
    host: service,
    open: () => appWindow.show(),
    quit: () => app.quit(), // through the quit guard, as every quit
    onError: (title, message) => void dialog.showMessageBox({ type: 'error', message: title, detail: message }),
  });
}
