import type { App, BrowserWindow, Dialog } from 'electron';
import type { HostService } from '../host/host-service.js';

/**
 * Quitting while jobs run asks first; if the user goes on, the jobs are cancelled and awaited (a backup
 * removes its unfinished snapshot, a GC stops before deleting more) and only then does the app quit.
 */
export function guardQuit(
  app: App,
  dialog: Dialog,
  service: HostService,
  window: () => BrowserWindow | undefined,
): void {
  let cancelledForQuit = false;
  app.on('before-quit', (event) => {
    const running = service.engine.runningCount;
    if (running === 0 || cancelledForQuit) return;
    event.preventDefault();
    const options = {
      type: 'question' as const,
      buttons: ['Cancel jobs and quit', 'Keep running'],
      defaultId: 1,
      cancelId: 1,
      message: `${running} job${running === 1 ? ' is' : 's are'} still running.`,
      detail:
        'Quitting cancels them cleanly: an unfinished backup is removed, data already stored stays for the next run.',
    };
    const win = window();
    void (win ? dialog.showMessageBox(win, options) : dialog.showMessageBox(options)).then(async ({ response }) => {
      if (response !== 0) return;
      cancelledForQuit = true;
      await service.shutdown();
      app.quit();
    });
  });
}
