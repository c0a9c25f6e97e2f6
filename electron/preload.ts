import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import { API_METHODS, ipcChannel, type ApiMethod } from '../contract/actions.js';
import {
  EVENT_METHODS,
  ipcEventChannel,
  type EventSubscriptions,
  type HostEventName,
  type PreloadExtras,
} from '../contract/events.js';

/**
 * The renderer's only door to the host: one named function per action (no raw ipcRenderer, no generic
 * invoke), subscriptions that return their unsubscribe function and never pass the IPC event on, and the
 * path of a dropped file. Bundled into one CommonJS file, as a sandboxed preload must be.
 */
const methods = Object.fromEntries(
  (Object.entries(API_METHODS) as [ApiMethod, (typeof API_METHODS)[ApiMethod]][]).map(([method, action]) => [
    method,
    (request: unknown) => ipcRenderer.invoke(ipcChannel(action), request ?? {}),
  ]),
);

function subscribe(event: HostEventName, listener: (payload: unknown) => void): () => void {
  const channel = ipcEventChannel(event);
  const relay = (_event: IpcRendererEvent, payload: unknown) => listener(payload);
  ipcRenderer.on(channel, relay);
  return () => {
    ipcRenderer.removeListener(channel, relay);
  };
}

const subscriptions = Object.fromEntries(
  (Object.entries(EVENT_METHODS) as [keyof EventSubscriptions, HostEventName][]).map(([method, event]) => [
    method,
    (listener: (payload: unknown) => void) => subscribe(event, listener),
  ]),
) as unknown as EventSubscriptions;

const extras: PreloadExtras = {
  getPathForFile: (file) => {
    try {
      return webUtils.getPathForFile(file as File);
    } catch {
      return '';
    }
  },
};

contextBridge.exposeInMainWorld('cairn', Object.freeze({ ...methods, ...subscriptions, ...extras }));
