import type { IpcMain, WebContents } from 'electron';
import { ACTION_NAMES, ipcChannel } from '../contract/actions.js';
import type { Result } from '../contract/errors.js';
import { ipcEventChannel } from '../contract/events.js';
import type { HostService } from '../host/host-service.js';
import { isTrustedSender } from './security.js';

/**
 * One ipcMain handler per action of the contract. Each checks the sender first, then the service validates
 * the payload; answers are Results, because invoke() would keep only an error's message.
 */
export function registerIpcHandlers(ipcMain: IpcMain, service: HostService): () => void {
  for (const action of ACTION_NAMES) {
    ipcMain.handle(ipcChannel(action), async (event, payload: unknown): Promise<Result<unknown>> => {
      if (!isTrustedSender(event)) {
        return {
          ok: false,
          error: {
            code: 'BAD_REQUEST',
            message: `refused ${action} from ${event.senderFrame?.url ?? 'an unknown frame'}`,
          },
        };
      }
      return service.handle(action, payload);
    });
  }
  return () => {
    for (const action of ACTION_NAMES) ipcMain.removeHandler(ipcChannel(action));
  };
}

/** Pushes the service's events (progress already throttled by the job engine) to one window. */
export function forwardEvents(service: HostService, contents: WebContents): () => void {
  return service.subscribe((event, payload) => {
    if (!contents.isDestroyed()) contents.send(ipcEventChannel(event), payload);
  });
}
