import { readFile } from 'node:fs/promises';
import type { Protocol } from 'electron';
import { CONTENT_SECURITY_POLICY, contentType, resolveRendererFile } from '../host/renderer-files.js';
import { APP_HOST, APP_SCHEME } from './security.js';

/** Must run before the app is ready: app:// behaves like https (secure, standard, fetch allowed). */
export function registerAppScheme(protocol: Protocol): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

/** Serves the built renderer under app://cairn/: GET only, never a file outside the renderer folder. */
export async function serveRendererFile(rendererDir: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (request.method !== 'GET') return new Response('Method not allowed', { status: 405 });
  if (url.host !== APP_HOST) return new Response('Not found', { status: 404 });
  const file = resolveRendererFile(rendererDir, url.pathname);
  if (!file) return new Response('Not found', { status: 404 });
  try {
    const body = await readFile(file);
    return new Response(body, {
      headers: {
        'Content-Type': contentType(file),
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  } catch {
    return new Response('Not found', { status: 404 });
  }
}

export function handleAppProtocol(protocol: Protocol, rendererDir: string): void {
  protocol.handle(APP_SCHEME, (request) => serveRendererFile(rendererDir, request));
}
