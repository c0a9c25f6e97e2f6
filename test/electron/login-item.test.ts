import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  autostartFile,
  execArgument,
  HIDDEN_FLAG,
  loginItem,
  startedHidden,
  type LoginItemDeps,
} from '../../electron/login-item.js';
import { app } from '../support/electron-mock.js';
import { useTempDirs } from '../support/temp.js';

type FakeApp = LoginItemDeps['app'];

function appAt(appPath: string, isPackaged: boolean): FakeApp {
  return { ...app, isPackaged, getAppPath: () => appPath } as unknown as FakeApp;
}

describe('start at login', () => {
  const temp = useTempDirs();
  beforeEach(() => {
    app.setLoginItemSettings.mockClear();
    app.getLoginItemSettings.mockClear();
  });

  it('on Linux, writes and removes an XDG autostart entry that starts the AppImage hidden', () => {
    const config = temp('xdg');
    const env = { XDG_CONFIG_HOME: config, APPIMAGE: '/home/ann/Apps/Cairn-0.1.0.AppImage' };
    const item = loginItem({
      app: appAt('/tmp/.mount_x/resources/app.asar', true),
      platform: 'linux',
      env,
      execPath: '/tmp/.mount_x/cairn',
    });
    const file = join(config, 'autostart', 'cairn.desktop');
    expect(item.isEnabled()).toBe(false);
    item.setEnabled(true);
    expect(item.isEnabled()).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(
      [
        '[Desktop Entry]',
        'Type=Application',
        'Name=Cairn',
        'Comment=Backups that run themselves',
        'Exec=/home/ann/Apps/Cairn-0.1.0.AppImage --hidden',
        'Terminal=false',
        'X-GNOME-Autostart-enabled=true',
        '',
      ].join('\n'),
    );
    expect(statSync(file).mode & 0o777).toBe(0o644);
    item.setEnabled(true); // again: replaced, not doubled
    expect(readFileSync(file, 'utf8').match(/Exec=/g)).toHaveLength(1);
    item.setEnabled(false);
    expect(existsSync(file)).toBe(false);
    expect(item.isEnabled()).toBe(false);
    item.setEnabled(false); // already gone: fine
    expect(app.setLoginItemSettings).not.toHaveBeenCalled();
  });

  it('on Linux, unpackaged (npm start) and installed (deb), the entry runs what runs now', () => {
    const config = temp('xdg');
    const dev = loginItem({
      app: appAt('/home/ann/src/my cairn', false),
      platform: 'linux',
      env: { XDG_CONFIG_HOME: config },
      execPath: '/home/ann/src/my cairn/node_modules/electron/dist/electron',
    });
    dev.setEnabled(true);
    const exec = /^Exec=(.*)$/m.exec(readFileSync(join(config, 'autostart', 'cairn.desktop'), 'utf8'))![1];
    expect(exec).toBe('"/home/ann/src/my cairn/node_modules/electron/dist/electron" "/home/ann/src/my cairn" --hidden');
    const deb = loginItem({
      app: appAt('/opt/Cairn/resources/app.asar', true),
      platform: 'linux',
      env: { XDG_CONFIG_HOME: config },
      execPath: '/opt/Cairn/cairn',
    });
    deb.setEnabled(true);
    expect(readFileSync(join(config, 'autostart', 'cairn.desktop'), 'utf8')).toContain(
      'Exec=/opt/Cairn/cairn --hidden\n',
    );
  });

  it('finds the autostart folder as the XDG spec says', () => {
    expect(autostartFile({ XDG_CONFIG_HOME: '/home/ann/.cfg' })).toBe('/home/ann/.cfg/autostart/cairn.desktop');
    expect(autostartFile({})).toBe(join(homedir(), '.config', 'autostart', 'cairn.desktop'));
    expect(autostartFile({ XDG_CONFIG_HOME: 'relative/cfg' }), 'a relative one is ignored').toBe(
      join(homedir(), '.config', 'autostart', 'cairn.desktop'),
    );
  });

  it('quotes Exec arguments as the Desktop Entry spec wants', () => {
    expect(execArgument('/opt/Cairn/cairn')).toBe('/opt/Cairn/cairn');
    expect(execArgument('/home/ann/100%/cairn')).toBe('/home/ann/100%%/cairn');
    expect(execArgument('/home/ann/My Apps/cairn')).toBe('"/home/ann/My Apps/cairn"');
    expect(execArgument('/home/ann/$HOME "x"')).toBe('"/home/ann/\\\\$HOME \\\\"x\\\\""');
    expect(execArgument('C:\\odd')).toBe('"C:\\\\\\\\odd"');
    expect(() => execArgument('/home/ann/two\nlines')).toThrow(/control character/);
  });

  it('on macOS and Windows, uses the system login items with the hidden flag', () => {
    for (const platform of ['darwin', 'win32'] as const) {
      app.setLoginItemSettings.mockClear();
      const item = loginItem({
        app: appAt('C:\\Cairn\\resources\\app.asar', true),
        platform,
        env: {},
        execPath: 'C:\\Cairn\\Cairn.exe',
      });
      item.setEnabled(true);
      expect(app.setLoginItemSettings).toHaveBeenCalledExactlyOnceWith({ openAtLogin: true, args: [HIDDEN_FLAG] });
      app.getLoginItemSettings.mockReturnValueOnce({ openAtLogin: true, wasOpenedAtLogin: false });
      expect(item.isEnabled()).toBe(true);
      expect(app.getLoginItemSettings).toHaveBeenLastCalledWith({ args: [HIDDEN_FLAG] });
      item.setEnabled(false);
      expect(app.setLoginItemSettings).toHaveBeenLastCalledWith({ openAtLogin: false, args: [HIDDEN_FLAG] });
    }
    // Unpackaged, Electron's binary needs the app's folder first.
    loginItem({ app: appAt('C:\\src\\cairn', false), platform: 'win32', env: {}, execPath: 'electron.exe' }).setEnabled(
      true,
    );
    expect(app.setLoginItemSettings).toHaveBeenLastCalledWith({
      openAtLogin: true,
      args: ['C:\\src\\cairn', HIDDEN_FLAG],
    });
  });

  it('a start with --hidden (or, on macOS, at login) opens no window', () => {
    const deps = { app: appAt('/app', true), platform: 'linux' as const };
    expect(startedHidden(['/opt/Cairn/cairn', '--hidden'], deps)).toBe(true);
    expect(startedHidden(['/opt/Cairn/cairn'], deps)).toBe(false);
    app.getLoginItemSettings.mockReturnValueOnce({ openAtLogin: true, wasOpenedAtLogin: true });
    expect(startedHidden(['/Applications/Cairn.app/Contents/MacOS/Cairn'], { ...deps, platform: 'darwin' })).toBe(true);
  });
});
