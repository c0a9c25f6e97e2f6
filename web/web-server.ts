import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOST_EVENT_NAMES } from '../contract/events.js';
import { isActionName, validateRequest } from '../contract/validators.js';
import { toAppError } from '../host/app-errors.js';
import type { HostService } from '../host/host-service.js';
import { CONTENT_SECURITY_POLICY, contentType, resolveRendererFile } from '../host/renderer-files.js';
import { openSnapshotFile, openStore } from '../host/store-views.js';

export interface WebServerOptions {
  service: HostService;
  /** The built renderer (dist/renderer). */
  rendererDir: string;
  /** 0 (default): a free port. */
  port?: number;
  token?: string;
}

export interface WebServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const KEEPALIVE_MS = 15_000;

/**
 * Browser mode: the renderer and the host service over HTTP on the loopback interface. A random token in the
 * URL is required for the page and every API call; the Host header must name the loopback address (no DNS
 * rebinding) and a request's Origin, when sent, must be ours (no other site may call in).
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const events = new EventStreams(options.service);
  const app = new WebRoutes(options.service, options.rendererDir, token, events);
  const server = createServer((req, res) => {
    app.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: toAppError(err) });
      else res.destroy();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    events.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  app.port = port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      events.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The host's events as server-sent events, to every page that listens, with a keepalive comment now and then. */
class EventStreams {
  private readonly streams = new Set<ServerResponse>();
  private readonly unsubscribe: () => void;
  private readonly keepalive: ReturnType<typeof setInterval>;

  constructor(service: HostService) {
    this.unsubscribe = service.subscribe((event, payload) => {
      if (!HOST_EVENT_NAMES.includes(event)) return;
      const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const stream of this.streams) stream.write(frame);
    });
    this.keepalive = setInterval(() => {
      for (const s of this.streams) s.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  open(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(': connected\n\n');
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.keepalive);
    for (const s of this.streams) s.end();
  }
}

/** What the server answers: the loopback and origin checks, the API (token), and the renderer's files. */
class WebRoutes {
  /** Set once the server listens: the origins and Host headers it accepts name it. */
  port = 0;
  private readonly tokenBytes: Buffer;

  constructor(
    private readonly service: HostService,
    private readonly rendererDir: string,
    token: string,
    private readonly events: EventStreams,
  ) {
    this.tokenBytes = Buffer.from(token);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY'); // beside CSP frame-ancestors, for browsers that know only this one
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (
      !this.ourOrigins()
        .map((o) => o.slice('http://'.length))
        .includes(req.headers.host ?? '')
    ) {
      return sendText(res, 421, 'Cairn answers only on its loopback address.');
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.ourOrigins().includes(origin))
      return sendText(res, 403, 'Cross-origin requests are refused.');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname.startsWith('/api/')) return this.api(req, res, url);
    return this.rendererFile(req, res, url);
  }

  private ourOrigins(): string[] {
    return [`http://127.0.0.1:${this.port}`, `http://localhost:${this.port}`];
  }

  private tokenMatches(candidate: string | null | undefined): boolean {
    if (!candidate) return false;
    const bytes = Buffer.from(candidate);
    return bytes.length === this.tokenBytes.length && timingSafeEqual(bytes, this.tokenBytes);
  }

  /** `/api/…`: the token first, then the event stream, a download, or an action (POST, JSON, from our page). */
  private async api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!this.tokenMatches(bearer ?? url.searchParams.get('token')))
      return sendJson(res, 403, { ok: false, error: { code: 'BAD_REQUEST', message: 'wrong or missing token' } });
    if (url.pathname === '/api/events' && req.method === 'GET') return this.events.open(res);
    if (url.pathname === '/api/download' && req.method === 'GET') return this.download(url, res);
    const action = url.pathname.slice('/api/'.length);
    if (req.method !== 'POST' || !isActionName(action))
      return sendJson(res, 404, { ok: false, error: { code: 'BAD_REQUEST', message: `no action ${action}` } });
    if (req.headers.origin === undefined) return sendText(res, 403, 'Actions need an Origin header.');
    if (!isJsonContentType(req.headers['content-type']))
      return sendText(res, 415, 'Actions take JSON (Content-Type: application/json).');
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY) return refuseLargeBody(req, res);
    let payload: unknown;
    try {
      payload = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof BodyTooLarge) return refuseLargeBody(req, res);
      return sendJson(res, 400, {
        ok: false,
        error: { code: 'BAD_REQUEST', message: err instanceof Error ? err.message : 'bad body' },
      });
    }
    return sendJson(res, 200, await this.service.handle(action, payload));
  }

  /** A file of a snapshot, streamed as it is read and checked; a damaged chunk cuts it short. */
  private async download(url: URL, res: ServerResponse): Promise<void> {
    const p = url.searchParams;
    const valid = validateRequest('dialog.save-file', {
      store: p.get('store'),
      path: p.get('path'),
      snapshot: { type: p.get('type'), id: p.get('id'), time: Number(p.get('time')) },
    });
    if (!valid.ok) return sendJson(res, 400, { ok: false, error: { code: 'BAD_REQUEST', message: valid.message } });
    let file;
    try {
      const store = openStore(this.service.policy.check(valid.value.store, 'datastore'));
      file = openSnapshotFile(store, valid.value.snapshot, valid.value.path, this.service.readingKeys());
    } catch (err) {
      return sendJson(res, 404, { ok: false, error: toAppError(err) });
    }
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': file.size,
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(file.name)}`,
    });
    const { store, snapshot, path } = valid.value;
    try {
      for (const slice of file.slices) {
        if (res.destroyed) return;
        if (!res.write(slice)) await new Promise((resolve) => res.once('drain', resolve));
      }
      res.end();
      this.service.reportDownload(store, snapshot, path, { bytes: file.size });
    } catch (err) {
      res.destroy(); // a chunk failed verification: cut the download short rather than send wrong bytes
      this.service.reportDownload(store, snapshot, path, { error: err });
    }
  }

  /** The built renderer: the page itself needs the token; its scripts and styles are the same for everyone. */
  private rendererFile(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
    const file = resolveRendererFile(this.rendererDir, url.pathname);
    if (!file) return sendText(res, 404, 'Not found.');
    if (file.endsWith('index.html') && !this.tokenMatches(url.searchParams.get('token'))) {
      return sendText(res, 403, 'This address needs the token that `npm run web` printed (…/?token=…).');
    }
    let size: number;
    try {
      const st = statSync(file);
      if (!st.isFile()) return sendText(res, 404, 'Not found.');
      size = st.size;
    } catch {
      return sendText(res, 404, 'Not found.');
    }
    res.writeHead(200, {
      'Content-Type': contentType(file),
      'Content-Length': size,
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'Cache-Control': file.endsWith('index.html') ? 'no-store' : 'max-age=3600',
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).pipe(res);
  }
}

/** `application/json`, exactly (any case), with no parameter but a UTF-8 charset. */
function isJsonContentType(header: string | undefined): boolean {
  const [type, ...params] = (header ?? '').split(';').map((p) => p.trim().toLowerCase());
  return type === 'application/json' && params.every((p) => p === 'charset=utf-8');
}

class BodyTooLarge extends Error {}

/** A client that keeps sending after its 413 is cut off after this much, or this long. */
const MAX_DISCARDED_BODY = 64 * 1024 * 1024;
const DISCARD_MS = 5_000;

/**
 * 413 once the rest of the body is read and dropped: a socket closed with unread data is reset by the kernel,
 * and the client may see the reset before the answer. A client that sends past a bound, or too long, is cut off.
 */
function refuseLargeBody(req: IncomingMessage, res: ServerResponse): void {
  const answer = (): void => {
    res.setHeader('Connection', 'close');
    sendText(res, 413, `Request bodies are limited to ${MAX_BODY} bytes.`);
  };
  if (req.readableEnded) return answer();
  let discarded = 0;
  const cut = setTimeout(() => req.socket.destroy(), DISCARD_MS).unref();
  req.on('data', (part: Buffer) => {
    discarded += part.length;
    if (discarded > MAX_DISCARDED_BODY) req.socket.destroy();
  });
  req.on('end', () => {
    clearTimeout(cut);
    answer();
  });
  req.on('close', () => clearTimeout(cut));
  req.resume();
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY) {
        req.removeAllListeners('data');
        req.pause();
        reject(new BodyTooLarge('request body too large'));
        return;
      }
      parts.push(part);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
