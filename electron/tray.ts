import { join } from 'node:path';
import type { Menu, NativeImage, Tray } from 'electron';
import type { ActionName, ActionRequest, ActionResponse } from '../contract/actions.js';
import type { Result } from '../contract/errors.js';
import type { HostService } from '../host/host-service.js';
import { ProgressThrottle } from '../core/jobs/progress-throttle.js';
import { trayMenuTemplate, type TrayActions } from './tray-menu.js';
import { trayStatus, type TrayState, type TrayView } from './tray-status.js';

/** Job progress arrives ten times a second per job; the tray follows it at most this often. */
export const TRAY_REFRESH_MS = 1_000;
/** Times in the menu ("next at 14:00", overdue) age without an event: looked at again this often. */
const TRAY_TICK_MS = 60_000;

export type TrayHost = Pick<HostService, 'handle' | 'subscribe'> & { engine: Pick<HostService['engine'], 'list'> };

export interface TrayDeps {
  Tray: new (image: NativeImage) => Tray;
  Menu: Pick<typeof Menu, 'buildFromTemplate'>;
  nativeImage: { createFromPath(path: string): NativeImage };
  /** Where tray-<state>.png (and @2x) are: electron/assets in the app folder. */
  iconDir: string;
  host: TrayHost;
  open(): void;
  quit(): void;
  /** A tray action the host refused (a plan removed meanwhile, a damaged plans file). */
  onError(title: string, message: string): void;
  refreshMs?: number;
}

/**
 * The tray icon: idle, running (the running job and its percentage in the tooltip and the menu) or needing
 * attention (a plan failing or overdue); its menu runs a plan now, pauses or resumes all plans, opens the
 * window and quits. Rebuilt on every host event but store changes, throttled, and once a minute.
 */
export class CairnTray {
  private readonly tray: Tray;
  private readonly throttle: ProgressThrottle<null>;
  private readonly actions: TrayActions;
  private shown: TrayState = 'idle';
  /** Refreshes ask the host asynchronously: only the latest one is shown. */
  private generation = 0;
  private readonly ticker: ReturnType<typeof setInterval>;

  constructor(private readonly deps: TrayDeps) {
    this.tray = new deps.Tray(this.icon('idle'));
    this.tray.setToolTip('Cairn');
    this.tray.on('click', () => deps.open()); // Windows and macOS; Linux shows the menu
    this.actions = this.trayActions();
    this.throttle = new ProgressThrottle(() => void this.refresh(), deps.refreshMs ?? TRAY_REFRESH_MS, {
      trailing: true,
    });
    deps.host.subscribe((event) => {
      if (event !== 'store.changed') this.throttle.push(null);
    });
    this.ticker = setInterval(() => this.throttle.push(null), TRAY_TICK_MS);
    this.ticker.unref();
    this.throttle.push(null);
  }

  /** Shows where things stand now; resolves when shown. */
  async refresh(): Promise<void> {
    const generation = ++this.generation;
    const view = await this.view();
    if (generation !== this.generation) return;
    const status = trayStatus(view);
    if (status.state !== this.shown) this.tray.setImage(this.icon(status.state));
    this.shown = status.state;
    this.tray.setToolTip(status.tooltip);
    this.tray.setContextMenu(this.deps.Menu.buildFromTemplate(trayMenuTemplate(view, this.actions)));
  }

  destroy(): void {
    clearInterval(this.ticker);
    this.throttle.cancel();
    this.tray.destroy();
  }

  private async view(): Promise<TrayView> {
    const [plans, info] = await Promise.all([this.ask('plans.list', {}), this.ask('scheduler.info', {})]);
    const running = this.deps.host.engine.list().filter((j) => j.status === 'running');
    const view: TrayView = { plans: plans.ok ? plans.value : [], running, now: Date.now() };
    if (info.ok && info.value.pauseAll) view.pauseAll = info.value.pauseAll;
    // A host without plans says so; anything else (a damaged plans file) is for the user to see.
    if (!plans.ok && plans.error.code !== 'NOT_AVAILABLE') view.problem = `Plans: ${plans.error.message}`;
    return view;
  }

  private trayActions(): TrayActions {
    const act = async (action: Promise<Result<unknown>>, title: string) => {
      const result = await action;
      if (!result.ok) this.deps.onError(title, result.error.message);
      this.throttle.push(null);
    };
    return {
      runNow: (planId) => void act(this.ask('plans.run-now', { planId }), 'The backup could not start'),
      pauseAll: (minutes) =>
        void act(this.ask('plans.pause-all', minutes === undefined ? {} : { minutes }), 'Cannot pause the plans'),
      resumeAll: () => void act(this.ask('plans.resume-all', {}), 'Cannot resume the plans'),
      open: () => this.deps.open(),
      quit: () => this.deps.quit(),
    };
  }

  /** An action through the host's one entry point, as the window's requests go. */
  private ask<K extends ActionName>(action: K, req: ActionRequest<K>): Promise<Result<ActionResponse<K>>> {
    return this.deps.host.handle(action, req) as Promise<Result<ActionResponse<K>>>;
  }

  private icon(state: TrayState): NativeImage {
    return this.deps.nativeImage.createFromPath(join(this.deps.iconDir, `tray-${state}.png`));
  }
}
