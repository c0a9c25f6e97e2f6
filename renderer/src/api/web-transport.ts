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
  for (const [method, action] of Object.entries(API_METHODS) as [ApiMethod, string][]) {
    raw[method] = async (req) => {
      let response: Response;
      try {
        response = await fetch(`${base}/api/${action}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(req ?? {}),
        });
      } catch (err) {
        connection.set('lost');
        return {
          ok: false,
          error: {
            code: 'IO',
            message: `Cairn's host is not reachable (${err instanceof Error ? err.message : String(err)})`,
          },
        };
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
    };
  }

  const listeners = new Map<HostEventName, Set<(payload: never) => void>>();
  const reconnectListeners = new Set<() => void>();
  let source: EventSource | undefined;
  let opened = 0;
  const reopen = (): void => {
    source?.close();
    source = undefined;
    open();
  };
  const open = (): void => {
    source = new EventSource(`${base}/api/events?token=${encodeURIComponent(token)}`);
    // EventSource reconnects by itself after a break (sleep, a network hiccup); what happened meanwhile is fetched anew.
    source.addEventListener('open', () => {
      connection.set('connected');
      if (++opened > 1) for (const l of reconnectListeners) l();
    });
    // A break shows at once. EventSource retries by itself while the host is away; it gives up (CLOSED) on an
    // answer that is not a stream, such as a refused key.
    source.addEventListener('error', () => {
      connection.set('lost');
      if (source?.readyState === EventSource.CLOSED)
        void connection.probe(`${base}/api/app.info`, token, () => reopen());
    });
    for (const name of HOST_EVENT_NAMES) {
      source.addEventListener(name, (e) => {
        const payload = JSON.parse((e as MessageEvent<string>).data) as never;
        for (const l of listeners.get(name) ?? []) l(payload);
      });
    }
  };
  const subscribe = <K extends HostEventName>(event: K, listener: (payload: HostEvents[K]) => void): (() => void) => {
    if (!source) open();
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  };

  return {
    raw: raw as unknown as RawApi,
    onJobProgress: (l) => subscribe('job.progress', l),
    onJobDone: (l) => subscribe('job.done', l),
    onStoreChanged: (l) => subscribe('store.changed', l),
    onPlansChanged: (l) => subscribe('plans.changed', l),
    onPlanNotice: (l) => subscribe('plan.notice', l),
    onSearchUpdate: (l) => subscribe('search.update', l),
    onReconnect: (l) => {
      reconnectListeners.add(l);
      return () => reconnectListeners.delete(l);
    },
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
