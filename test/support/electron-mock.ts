import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { vi } from 'vitest';
import { tempDir } from './temp.js';

/**
 * A stand-in for the `electron` module (its binary cannot be downloaded here, and loading the real package
 * tries to): the parts Cairn's main process and preload use, recording what they are asked to do.
 * Tests use it with `vi.mock('electron', async () => (await import('../support/electron-mock.js')).electronMock)`.
 */
type Handler = (event: unknown, ...args: unknown[]) => unknown;

class FakeWebContents extends EventEmitter {
  readonly send = vi.fn();
  windowOpenHandler: (() => { action: string }) | undefined;
  setWindowOpenHandler = vi.fn((handler: () => { action: string }) => {
    this.windowOpenHandler = handler;
  });
  isDestroyed = vi.fn(() => false);
}

export class FakeBrowserWindow extends EventEmitter {
  static instances: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loadURL = vi.fn(async () => {});
  readonly show = vi.fn();
  readonly focus = vi.fn();
  readonly restore = vi.fn();
  readonly isMinimized = vi.fn(() => false);
  constructor(readonly options: { webPreferences: Record<string, unknown> } & Record<string, unknown>) {
    super();
    FakeBrowserWindow.instances.push(this);
  }
}

const appEvents = new EventEmitter();
let userDataDir: string | undefined;
/** The fake app's userData folder, made when first asked for: a test file that never asks leaves nothing behind. */
export function userDataPath(): string {
  userDataDir ??= tempDir('electron-userdata');
  return userDataDir;
}

export const app = {
  on: vi.fn((event: string, listener: (...args: unknown[]) => void) => {
    appEvents.on(event, listener);
    return app;
  }),
  emit: (event: string, ...args: unknown[]) => appEvents.emit(event, ...args),
  requestSingleInstanceLock: vi.fn(() => true),
  quit: vi.fn(),
  getPath: vi.fn(() => userDataPath()),
  getName: vi.fn(() => 'Cairn'),
  getAppPath: vi.fn(() => resolve(import.meta.dirname, '..', '..')),
  setPath: vi.fn(),
  whenReady: vi.fn(() => Promise.resolve()),
  isPackaged: false,
  setLoginItemSettings: vi.fn(),
  getLoginItemSettings: vi.fn(() => ({ openAtLogin: false, wasOpenedAtLogin: false })),
};

export const ipcHandlers = new Map<string, Handler>();
export const ipcMain = {
  handle: vi.fn((channel: string, handler: Handler) => {
    ipcHandlers.set(channel, handler);
  }),
  removeHandler: vi.fn((channel: string) => {
    ipcHandlers.delete(channel);
  }),
};

export const protocol = { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() };
export const session = { defaultSession: { setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() } };
/** A built menu is its template, so tests read labels and click items. */
export const Menu = { buildFromTemplate: vi.fn((template: unknown) => template), setApplicationMenu: vi.fn() };

/** A menu item as the mocked Menu keeps it. */
export interface FakeMenuItem {
  label?: string;
  type?: string;
  role?: string;
  enabled?: boolean;
  checked?: boolean;
  submenu?: FakeMenuItem[];
  click?: (item: { checked: boolean }) => void;
}

/** The item of `menu` with this label, looking into submenus; throws naming the labels there are. */
export function menuItem(menu: FakeMenuItem[], label: string | RegExp): FakeMenuItem {
  const all = (items: FakeMenuItem[]): FakeMenuItem[] => items.flatMap((i) => [i, ...all(i.submenu ?? [])]);
  const found = all(menu).find((i) => (typeof label === 'string' ? i.label === label : label.test(i.label ?? '')));
  if (!found) throw new Error(`no item ${String(label)} in ${JSON.stringify(menuLabels(menu))}`);
  return found;
}

export function menuLabels(menu: FakeMenuItem[]): string[] {
  return menu.filter((i) => i.label !== undefined).map((i) => i.label!);
}

export class FakeTray extends EventEmitter {
  static instances: FakeTray[] = [];
  readonly setImage = vi.fn();
  readonly setToolTip = vi.fn();
  readonly setContextMenu = vi.fn();
  readonly destroy = vi.fn();
  constructor(readonly image: FakeImage) {
    super();
    FakeTray.instances.push(this);
  }
  /** The last context menu set. */
  menu(): FakeMenuItem[] {
    return (this.setContextMenu.mock.lastCall?.[0] ?? []) as FakeMenuItem[];
  }
  /** The file of the icon shown now. */
  iconPath(): string {
    return ((this.setImage.mock.lastCall?.[0] as FakeImage | undefined) ?? this.image).path;
  }
}

export interface FakeImage {
  path: string;
  isEmpty(): boolean;
}
export const nativeImage = {
  createFromPath: vi.fn((path: string): FakeImage => ({ path, isEmpty: () => !existsSync(path) })),
};

export class FakeNotification extends EventEmitter {
  static instances: FakeNotification[] = [];
  static readonly isSupported = vi.fn(() => true);
  readonly show = vi.fn();
  constructor(readonly options: { title: string; body: string }) {
    super();
    FakeNotification.instances.push(this);
  }
}

export const powerMonitor = Object.assign(new EventEmitter(), { isOnBatteryPower: vi.fn(() => false) });

let blockers = 0;
export const powerSaveBlocker = {
  start: vi.fn((_type: string) => ++blockers),
  stop: vi.fn((_id: number) => true),
};
export const dialog = {
  showOpenDialog: vi.fn(async () => ({ canceled: true, filePaths: [] as string[] })),
  showSaveDialog: vi.fn(async () => ({ canceled: true, filePath: '' })),
  showMessageBox: vi.fn(async () => ({ response: 1 })),
  showErrorBox: vi.fn(),
};

const rendererEvents = new EventEmitter();
export const contextBridge = { exposeInMainWorld: vi.fn() };
export const ipcRenderer = {
  invoke: vi.fn(async (channel: string, request: unknown) => ({ ok: true, value: { channel, request } })),
  on: vi.fn((channel: string, listener: (...args: unknown[]) => void) => {
    rendererEvents.on(channel, listener);
    return ipcRenderer;
  }),
  removeListener: vi.fn((channel: string, listener: (...args: unknown[]) => void) => {
    rendererEvents.off(channel, listener);
    return ipcRenderer;
  }),
  /** What main's webContents.send would deliver to the page. */
  deliver: (channel: string, payload: unknown) => rendererEvents.emit(channel, { sender: 'the IPC event' }, payload),
  listenerCount: (channel: string) => rendererEvents.listenerCount(channel),
};
export const webUtils = { getPathForFile: vi.fn((file: { name: string }) => `/home/ann/${file.name}`) };

/** A keychain stand-in: "sealed" is the text reversed behind a marker, enough to tell sealed from plain. */
export const safeStorage = {
  isEncryptionAvailable: vi.fn(() => true),
  getSelectedStorageBackend: vi.fn(() => 'gnome_libsecret'),
  encryptString: vi.fn((text: string) => Buffer.from(`sealed:${[...text].reverse().join('')}`)),
  decryptString: vi.fn((sealed: Buffer) => {
    const text = sealed.toString();
    if (!text.startsWith('sealed:')) throw new Error('Error while decrypting the ciphertext provided to safeStorage');
    return [...text.slice(7)].reverse().join('');
  }),
};

export const electronMock = {
  safeStorage,
  app,
  ipcMain,
  protocol,
  session,
  Menu,
  dialog,
  BrowserWindow: FakeBrowserWindow,
  Tray: FakeTray,
  Notification: FakeNotification,
  nativeImage,
  powerMonitor,
  powerSaveBlocker,
  contextBridge,
  ipcRenderer,
  webUtils,
};
