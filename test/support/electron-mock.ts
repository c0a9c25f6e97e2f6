import { EventEmitter } from 'node:events';
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
export const Menu = { buildFromTemplate: vi.fn((template: unknown) => template), setApplicationMenu: vi.fn() };
export const dialog = {
  showOpenDialog: vi.fn(async () => ({ canceled: true, filePaths: [] as string[] })),
  showSaveDialog: vi.fn(async () => ({ canceled: true, filePath: '' })),
  showMessageBox: vi.fn(async () => ({ response: 1 })),
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

export const electronMock = {
  app,
  ipcMain,
  protocol,
  session,
  Menu,
  dialog,
  BrowserWindow: FakeBrowserWindow,
  contextBridge,
  ipcRenderer,
  webUtils,
};
