import { createElectronTransport } from './electron-transport.js';
import { createWebTransport } from './web-transport.js';
import type { Transport } from './client.js';

/** The preload's bridge when running in Electron, else HTTP to the browser-mode host with the URL's token. */
export function pickTransport(): Transport {
  if (window.cairn) return createElectronTransport(window.cairn);
  const token = new URLSearchParams(window.location.search).get('token');
  if (!token) throw new Error('This page needs the address `npm run web` printed, with its ?token=…');
  return createWebTransport(token);
}
