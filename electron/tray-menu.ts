import type { MenuItemConstructorOptions } from 'electron';
import { pauseLine, planWords, trayStatus, type TrayView } from './tray-status.js';

/** What the tray menu's items do. */
export interface TrayActions {
  runNow(planId: string): void;
  /** For `minutes`, or until resumed. */
  pauseAll(minutes?: number): void;
  resumeAll(): void;
  open(): void;
  quit(): void;
}

/**
 * The tray's context menu: the status, each plan with where it stands and "Back up now", pausing all plans
 * (for an hour, until resumed) or resuming them, opening the window and quitting (through the quit guard).
 */
export function trayMenuTemplate(view: TrayView, actions: TrayActions): MenuItemConstructorOptions[] {
  return [
    { label: trayStatus(view).headline, enabled: false },
    { type: 'separator' },
    ...planItems(view, actions),
    ...pauseItems(view, actions),
    { type: 'separator' },
    { label: 'Open Cairn', click: () => actions.open() },
    { label: 'Quit Cairn', click: () => actions.quit() },
  ];
}

function planItems(view: TrayView, actions: TrayActions): MenuItemConstructorOptions[] {
  if (view.plans.length === 0) return [{ label: 'No backup plans yet', enabled: false }];
  return view.plans.map((p) => ({
    label: `${p.plan.name}: ${planWords(p, view.now)}`,
    submenu: [
      {
        label: 'Back up now',
        enabled: p.status.state !== 'running',
        click: () => actions.runNow(p.plan.id),
      },
    ],
  }));
}

function pauseItems(view: TrayView, actions: TrayActions): MenuItemConstructorOptions[] {
  if (view.pauseAll) {
    return [
      { type: 'separator' },
      { label: pauseLine(view.pauseAll, view.now), enabled: false },
      { label: 'Resume all', click: () => actions.resumeAll() },
    ];
  }
  if (view.plans.length === 0) return [];
  return [
    { type: 'separator' },
    { label: 'Pause all for 1 hour', click: () => actions.pauseAll(60) },
    { label: 'Pause all until resumed', click: () => actions.pauseAll() },
  ];
}
