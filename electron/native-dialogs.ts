import type { BrowserWindow, Dialog } from 'electron';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HostPlatform } from '../host/host-service.js';

/** Native folder, file and save pickers for the host service (browser mode has its in-app folder browser instead). */
export function nativeDialogs(
  dialog: Dialog,
  window: () => BrowserWindow | undefined,
): Required<Pick<HostPlatform, 'pickFolder' | 'pickFile' | 'pickSaveFile'>> {
  return {
    async pickFolder(title, defaultPath) {
      const options = {
        title,
        defaultPath: defaultPath ?? homedir(),
        properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[],
      };
      const win = window();
      const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
    async pickFile(title, defaultPath) {
      const options = { title, defaultPath: defaultPath ?? homedir(), properties: ['openFile'] as 'openFile'[] };
      const win = window();
      const result = win ? await dialog.showOpenDialog(win, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
    async pickSaveFile(suggestedName, title = 'Save file from snapshot') {
      const options = { title, defaultPath: join(homedir(), suggestedName) };
      const win = window();
      const result = win ? await dialog.showSaveDialog(win, options) : await dialog.showSaveDialog(options);
      return result.canceled || !result.filePath ? null : result.filePath;
    },
  };
}
