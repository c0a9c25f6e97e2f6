import type { MenuItemConstructorOptions } from 'electron';

/** The desktop app's own switches, shown as checkboxes in the File menu. */
export interface AppMenuOptions {
  keepInTray: boolean;
  openAtLogin: boolean;
  setKeepInTray(on: boolean): void;
  setOpenAtLogin(on: boolean): void;
}

/** The application menu: the platform's standard roles and the app's switches, nothing that reaches the network. */
export function appMenuTemplate(
  platform: NodeJS.Platform,
  appName: string,
  options: AppMenuOptions,
): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  return [
    ...(mac
      ? [
          {
            label: appName,
            submenu: [
              { role: 'about' },
              { type: 'separator' },
              { role: 'hide' },
              { role: 'hideOthers' },
              { role: 'unhide' },
              { type: 'separator' },
              { role: 'quit' },
            ],
          } satisfies MenuItemConstructorOptions,
        ]
      : []),
    {
      label: 'File',
      submenu: [...switches(options), { type: 'separator' }, mac ? { role: 'close' } : { role: 'quit' }],
    },
    {
      label: 'Edit',
      submenu: [
        { role: 'undo' },
        { role: 'redo' },
        { type: 'separator' },
        { role: 'cut' },
        { role: 'copy' },
        { role: 'paste' },
        { role: 'selectAll' },
      ],
    },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { role: 'windowMenu' },
  ];
}

function switches(options: AppMenuOptions): MenuItemConstructorOptions[] {
  return [
    {
      label: 'Keep running in the tray when the window is closed',
      type: 'checkbox',
      checked: options.keepInTray,
      click: (item) => options.setKeepInTray(item.checked),
    },
    {
      label: 'Start Cairn at login',
      type: 'checkbox',
      checked: options.openAtLogin,
      click: (item) => options.setOpenAtLogin(item.checked),
    },
  ];
}
