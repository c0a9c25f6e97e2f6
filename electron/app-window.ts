import type { BrowserWindow, BrowserWindowConstructorOptions, WebContents } from 'electron';
import { APP_ENTRY } from './security.js';

type WindowClass = new (options: BrowserWindowConstructorOptions) => BrowserWindow;

/**
 * The one window, showing the renderer from app://: made when first shown (not at all on a hidden start, where
 * the tray is all there is) and made again when shown after it was closed (the app may live on in the tray).
 */
export class AppWindow {
  private window: BrowserWindow | undefined;

  constructor(
    private readonly BrowserWindowClass: WindowClass,
    private readonly preload: string,
    /** Pushes the host's events to a new window's page; returns how to stop. */
    private readonly connect: (contents: WebContents) => () => void,
  ) {}

  get current(): BrowserWindow | undefined {
    return this.window;
  }

  /** Shows the window in front, making it if there is none. */
  show(): void {
    if (!this.window) return this.create();
    if (this.window.isMinimized()) this.window.restore();
    this.window.show();
    this.window.focus();
  }

  private create(): void {
    const window = new this.BrowserWindowClass({
      width: 1280,
      height: 820,
      minWidth: 900,
      minHeight: 560,
      show: false,
      title: 'Cairn',
      webPreferences: {
        preload: this.preload,
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
    this.window = window;
    const stopForwarding = this.connect(window.webContents);
    window.once('ready-to-show', () => window.show());
    window.on('closed', () => {
      stopForwarding();
      if (this.window === window) this.window = undefined;
    });
    void window.loadURL(APP_ENTRY);
  }
}
