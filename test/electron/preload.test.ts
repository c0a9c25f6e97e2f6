import { describe, expect, it, vi } from 'vitest';
import { API_METHODS } from '../../contract/actions.js';
import { EVENT_METHODS } from '../../contract/events.js';
import { contextBridge, ipcRenderer, webUtils } from '../support/electron-mock.js';

vi.mock('electron', async () => (await import('../support/electron-mock.js')).electronMock);

type Exposed = Record<string, (...args: unknown[]) => unknown>;

describe('preload', async () => {
  await import('../../electron/preload.js');
  const [name, api] = contextBridge.exposeInMainWorld.mock.calls[0] as unknown as [string, Exposed];

  it('exposes named functions only, one per action and event, plus dropped paths', () => {
    expect(name).toBe('cairn');
    expect(Object.keys(api).sort()).toEqual(
      [...Object.keys(API_METHODS), ...Object.keys(EVENT_METHODS), 'getPathForFile'].sort(),
    );
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
    expect(api).not.toHaveProperty('invoke');
    expect(api).not.toHaveProperty('ipcRenderer');
    expect(Object.isFrozen(api)).toBe(true);
  });

  it('maps each method to its own channel', async () => {
    await api.openStore!({ path: '/home/ann/store' });
    expect(ipcRenderer.invoke).toHaveBeenLastCalledWith('cairn:store.open', { path: '/home/ann/store' });
    await api.startJob!({ kind: 'gc', store: '/s' });
    expect(ipcRenderer.invoke).toHaveBeenLastCalledWith('cairn:jobs.start', { kind: 'gc', store: '/s' });
    for (const [method, action] of Object.entries(API_METHODS)) {
      await api[method]!({});
      expect(ipcRenderer.invoke).toHaveBeenLastCalledWith(`cairn:${action}`, {});
    }
  });

  it('passes events on without the IPC event, and unsubscribes', () => {
    const seen: unknown[][] = [];
    const off = api.onJobProgress!((...args: unknown[]) => seen.push(args)) as () => void;
    ipcRenderer.deliver('cairn-event:job.progress', { id: 'j1' });
    expect(seen).toEqual([[{ id: 'j1' }]]);
    expect(ipcRenderer.listenerCount('cairn-event:job.progress')).toBe(1);
    off();
    expect(ipcRenderer.listenerCount('cairn-event:job.progress')).toBe(0);
    ipcRenderer.deliver('cairn-event:job.progress', { id: 'j2' });
    expect(seen).toHaveLength(1);
  });

  it('resolves a dropped file to its path with webUtils, and to "" when it has none', () => {
    expect(api.getPathForFile!({ name: 'Documents' })).toBe('/home/ann/Documents');
    webUtils.getPathForFile.mockImplementationOnce(() => {
      throw new Error('not a file from disk');
    });
    expect(api.getPathForFile!({ name: 'x' })).toBe('');
  });
});
