import { API_METHODS, type ApiMethod, type RawApi } from '../../../contract/actions.js';
import type { Result } from '../../../contract/errors.js';
import { HOST_EVENT_NAMES, type HostEventName, type HostEvents } from '../../../contract/events.js';
import type { ConnectionState, Transport } from './client.js';

/**
 * Browser mode: actions are POSTs to the local host with the session token, events arrive over one
 * Server-Sent Events stream. The token comes from the page's own URL (`?token=…`).
 */
export function createWebTransport(token: string, base = ''): Transport {
  const connection = new ConnectionWatch();
  const raw = {} as Record<ApiMethod, (req: unknown) => Promise<Result<unknown>>>;
  for (const [method, action] of Object.entries(API_METHODS) as [ApiMethod, string][])
    raw[method] = (req) => postAction(`${base}/api/${action}`, action, token, req, connection);
  const events = new EventStream(base, token, connection);
  return {
    raw: raw as unknown as RawApi,
    onJobProgress: (l) => events.subscribe('job.progress', l),
    onJobDone: (l) => events.subscribe('job.done', l),
    onStoreChanged: (l) => events.subscribe('store.changed', l),
    onPlansChanged: (l) => events.subscribe('plans.changed', l),
    onPlanNotice: (l) => events.subscribe('plan.notice', l),
    onSearchUpdate: (l) => events.subscribe('search.update', l),
    onReconnect: (l) => events.onReconnect(l),
    onConnection: (l) => connection.listen(l),
    pathOfDroppedFile: () => undefined,
    downloadUrl: (store, snapshot, path) => {
      const q = new URLSearchParams({
        token,
        store,
        type: snapshot.type,
        id: snapshot.id,
        time: String(snapshot.time),
        path,
      });
      return `${base}/api/download?${q.toString()}`;
    },
  };
}

/** One action: the host's Result, or one made here when the host cannot be reached or answers no JSON. */
async function postAction(
  url: string,
  action: string,
  token: string,
  req: unknown,
  connection: ConnectionWatch,
): Promise<Result<unknown>> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify(req ?? {}),
    });
  } catch (err) {
    connection.set('lost');
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: 'IO', message: `Cairn's host is not reachable (${why})` } };
  }
  if (response.status === 403) connection.set('refused');
  try {
    return (await response.json()) as Result<unknown>;
  } catch {
    return {
      ok: false,
      error: { code: 'INTERNAL', message: `${action}: HTTP ${response.status} ${response.statusText}` },
    };
  }
}

/** The host's events over one Server-Sent Events stream, opened with the first listener. */
class EventStream {
  private readonly listeners = new Map<HostEventName, Set<(payload: never) => void>>();
  private readonly reconnectListeners = new Set<() => void>();
  private source: EventSource | undefined;
  private opened = 0;

  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly connection: ConnectionWatch,
  ) {}

  subscribe<K extends HostEventName>(event: K, listener: (payload: HostEvents[K]) => void): () => void {
    if (!this.source) this.open();
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Called when the stream opens again after a break: what happened meanwhile is to be fetched anew. */
  onReconnect(listener: () => void): () => void {
    this.reconnectListeners.add(listener);
    return () => this.reconnectListeners.delete(listener);
  }

  private open(): void {
    const source = new EventSource(`${this.base}/api/events?token=${encodeURIComponent(this.token)}`);
    this.source = source;
    // EventSource reconnects by itself after a break (sleep, a network hiccup).
    source.addEventListener('open', () => {
      this.connection.set('connected');
      if (++this.opened > 1) for (const l of this.reconnectListeners) l();
    });
    // A break shows at once. EventSource retries by itself while the host is away; it gives up (CLOSED) on an
    // answer that is not a stream, such as a refused key.
    source.addEventListener('error', () => {
      this.connection.set('lost');
      if (source.readyState === EventSource.CLOSED)
        void this.connection.probe(`${this.base}/api/app.info`, this.token, () => this.reopen());
    });
    for (const name of HOST_EVENT_NAMES) {
      source.addEventListener(name, (e) => {
        const payload = JSON.parse((e as MessageEvent<string>).data) as never;
        for (const l of this.listeners.get(name) ?? []) l(payload);
      });
    }
  }

  private reopen(): void {
    this.source?.close();
    this.source = undefined;
    this.open();
  }
}

/** The host's reachability as the page sees it, told to listeners when it changes. */
class ConnectionWatch {
  private state: ConnectionState = 'connected';
  private readonly listeners = new Set<(state: ConnectionState) => void>();
  private probing = false;

  set(state: ConnectionState): void {
    if (state === this.state) return;
    this.state = state;
    for (const l of this.listeners) l(state);
  }

  listen(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  /**
   * After the event stream gave up: asks the host every 2 s until it answers. A refused key stays refused (the
   * page needs the host's address anew); an answer means the stream can be opened again.
   */
  async probe(url: string, token: string, reopen: () => void): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      for (;;) {
        try {
          const r = await fetch(url, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
            body: '{}',
          });
          if (r.status === 403) return this.set('refused');
          if (r.ok) return reopen();
        } catch {
          // still away
        }
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    } finally {
      this.probing = false;
    }
  }
}
