import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startCairnApp } from '../../electron/cairn-app.js';
import { HostService } from '../../host/host-service.js';
import { app, FakeBrowserWindow, FakeTray, menuItem, userDataPath } from '../support/electron-mock.js';
import { tempDir } from '../support/temp.js';

vi.mock('electron', async () => (await import('../support/electron-mock.js')).electronMock);

describe('a hidden start (at login): the tray only, the window when asked for', () => {
  const base = tempDir('electron-hidden');
  beforeAll(async () => {
    process.env.CAIRN_CONFIG_DIR = join(base, 'config');
    process.env.XDG_CONFIG_HOME = join(base, 'xdg');
    process.argv.push('--hidden');
    vi.spyOn(HostService.prototype, 'startScheduler').mockImplementation(() => {}); // not what is tested here
    startCairnApp();
    await app.whenReady();
    await new Promise((resolve) => setImmediate(resolve));
  });
  afterAll(() => {
    process.argv.splice(process.argv.indexOf('--hidden'), 1);
    delete process.env.CAIRN_CONFIG_DIR;
    delete process.env.XDG_CONFIG_HOME;
    rmSync(base, { recursive: true, force: true });
    rmSync(userDataPath(), { recursive: true, force: true });
  });

  it('opens no window, but the tray', () => {
    expect(FakeBrowserWindow.instances).toHaveLength(0);
    expect(FakeTray.instances).toHaveLength(1);
  });

  it('"Open Cairn" in the tray makes the window; closed, a second start makes it again', async () => {
    const tray = FakeTray.instances[0]!;
    await vi.waitFor(() => expect(tray.setContextMenu).toHaveBeenCalled());
    menuItem(tray.menu(), 'Open Cairn').click!({ checked: false });
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    const first = FakeBrowserWindow.instances[0]!;
    first.emit('ready-to-show');
    expect(first.show).toHaveBeenCalled();
    // Open again while it is there: brought to the front, not doubled.
    menuItem(tray.menu(), 'Open Cairn').click!({ checked: false });
    expect(FakeBrowserWindow.instances).toHaveLength(1);
    expect(first.focus).toHaveBeenCalled();

    first.emit('closed');
    // No plans and no choice made: closing the last window quits, as before plans existed.
    app.emit('window-all-closed');
    expect(app.quit).toHaveBeenCalledTimes(1);
    app.emit('second-instance');
    await vi.waitFor(() => expect(FakeBrowserWindow.instances).toHaveLength(2));
  });
});
