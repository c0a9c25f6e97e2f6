import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault injector in front of the real Ceph gateway, which (Ceph 16) cannot be made to throttle: requests the
 * rule picks are answered 503 SlowDown as S3 services answer them, every other one goes through to the gateway
 * untouched (headers included, so its signature still holds). Not a fake server: every answer but the refusals
 * is the gateway's.
 */
export interface SlowdownProxy {
  readonly endpoint: string;
  /** Requests answered 503 SlowDown so far. */
  readonly refused: number;
  /** Requests passed to the gateway so far. */
  readonly forwarded: number;
  /** Of the requests `watch` picks: how many are in flight now, the most at once so far, and each one's method and path. */
  readonly inFlight: number;
  maxInFlight: number;
  readonly watched: { method: string; path: string }[];
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** Requests counted in flight (from their arrival until their answer is sent). */
  watch?: (req: IncomingMessage) => boolean;
  /** Milliseconds to hold a request before passing it on (a slower network). */
  delayMs?: (req: IncomingMessage) => number;
}

const SLOW_DOWN = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`;

export async function startSlowdownProxy(
  gatewayEndpoint: string,
  refuse: (req: IncomingMessage, n: number) => boolean,
  options: ProxyOptions = {},
): Promise<SlowdownProxy> {
  const target = new URL(gatewayEndpoint);
  const counts = { refused: 0, forwarded: 0, seen: 0, inFlight: 0, maxInFlight: 0 };
  const watched: { method: string; path: string }[] = [];
  const server: Server = createServer((req, res) => {
    if (options.watch?.(req)) {
      watched.push({ method: req.method ?? '', path: new URL(req.url ?? '/', 'http://x').pathname });
      counts.maxInFlight = Math.max(counts.maxInFlight, ++counts.inFlight);
      let done = false;
      const settle = (): void => {
        if (!done) counts.inFlight--;
        done = true;
      };
      res.on('finish', settle).on('close', settle);
    }
    if (refuse(req, ++counts.seen)) {
      counts.refused++;
      req.resume();
      req.on('end', () => slowDown(res));
      return;
    }
    counts.forwarded++;
    const delay = options.delayMs?.(req) ?? 0;
    if (delay > 0) {
      req.pause();
      setTimeout(() => forward(req, res, target), delay);
    } else forward(req, res, target);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get refused() {
      return counts.refused;
    },
    get forwarded() {
      return counts.forwarded;
    },
    get inFlight() {
      return counts.inFlight;
    },
    get maxInFlight() {
      return counts.maxInFlight;
    },
    set maxInFlight(n: number) {
      counts.maxInFlight = n;
    },
    watched,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function slowDown(res: ServerResponse): void {
  res.writeHead(503, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(SLOW_DOWN) });
  res.end(SLOW_DOWN);
}

function forward(req: IncomingMessage, res: ServerResponse, target: URL): void {
  const upstream = request(
    { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}
