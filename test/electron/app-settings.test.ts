import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { appMenuTemplate } from '../../electron/app-menu.js';
import { AppSettingsFile, keepsRunningInTray } from '../../electron/app-settings.js';
import { menuItem, type FakeMenuItem } from '../support/electron-mock.js';
import { useTempDirs } from '../support/temp.js';

describe('the app settings', () => {
  const temp = useTempDirs();

  it('start empty, are kept in app-settings.json (0600), and a damaged file reads as the defaults', () => {
    const dir = temp('app-data');
    const settings = new AppSettingsFile(dir);
    expect(settings.read()).toEqual({});
    expect(settings.update({ keepInTray: false })).toEqual({ keepInTray: false });
    expect(new AppSettingsFile(dir).read()).toEqual({ keepInTray: false });
    expect(JSON.parse(readFileSync(settings.file, 'utf8'))).toEqual({ version: 1, keepInTray: false });
    expect(statSync(settings.file).mode & 0o777).toBe(0o600);
    writeFileSync(settings.file, '{"version": 1, "keepInTray": "yes"}');
    expect(settings.read()).toEqual({});
    expect(settings.update({ keepInTray: true })).toEqual({ keepInTray: true });
  });

  it("keep running in the tray: the user's choice, else only when there are plans", () => {
    expect(keepsRunningInTray({}, true)).toBe(true);
    expect(keepsRunningInTray({}, false)).toBe(false);
    expect(keepsRunningInTray({ keepInTray: false }, true)).toBe(false);
    expect(keepsRunningInTray({ keepInTray: true }, false)).toBe(true);
  });
});

describe('the app menu', () => {
  it('has the two switches, checked as they stand, and a click sets them', () => {
    const setKeepInTray = vi.fn();
    const setOpenAtLogin = vi.fn();
    for (const platform of ['linux', 'darwin', 'win32'] as const) {
      const menu = appMenuTemplate(platform, 'Cairn', {
        keepInTray: true,
        openAtLogin: false,
        setKeepInTray,
        setOpenAtLogin,
      }) as FakeMenuItem[];
      const keep = menuItem(menu, 'Keep running in the tray when the window is closed');
      expect(keep).toMatchObject({ type: 'checkbox', checked: true });
      const login = menuItem(menu, 'Start Cairn at login');
      expect(login).toMatchObject({ type: 'checkbox', checked: false });
      keep.click!({ checked: false });
      login.click!({ checked: true });
      const file = menuItem(menu, 'File').submenu!;
      expect(file.at(-1)!.role).toBe(platform === 'darwin' ? 'close' : 'quit');
    }
    expect(setKeepInTray.mock.calls).toEqual([[false], [false], [false]]);
    expect(setOpenAtLogin.mock.calls).toEqual([[true], [true], [true]]);
  });
});
