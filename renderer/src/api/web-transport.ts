import { API_METHODS, type ApiMethod, type RawApi } from '../../../contract/actions.js';
import type { Result } from '../../../contract/errors.js';
import type { HostEventName, HostEvents } from '../../../contract/events.js';
import type { Transport } from './client.js';

/**
 * Browser mode: actions are POSTs to the local host with the session token, events arrive over one
 * Server-Sent Events stream. The token comes from the page's own URL (`?token=…`).
 */
export function createWebTransport(token: string, base = ''): Transport {
  const raw = {} as Record<ApiMethod, (req: unknown) => Promise<Result<unknown>>>;
  for (const [method, action] of Object.entries(API_METHODS) as [ApiMethod, string][]) {
    raw[method] = async (req) => {
      let response: Response;
      try {
        response = await fetch(`${base}/api/${action}`, {
          method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` }, body: JSON.stringify(req ?? {}),
        });
      } catch (err) {
        return { ok: false, error: { code: 'IO', message: `Cairn's host is not reachable (${err instanceof Error ? err.message : String(err)})` } };
      }
      try {
        return await response.json() as Result<unknown>;
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: `${action}: HTTP ${response.status} ${response.statusText}` } };
      }
    };
  }

  const listeners = new Map<HostEventName, Set<(payload: never) => void>>();
  const reconnectListeners = new Set<() => void>();
  let source: EventSource | undefined;
  let opened = 0;
  const subscribe = <K extends HostEventName>(event: K, listener: (payload: HostEvents[K]) => void): (() => void) => {
    if (!source) {
      source = new EventSource(`${base}/api/events?token=${encodeURIComponent(token)}`);
      // EventSource reconnects by itself after a break (sleep, a network hiccup); what happened meanwhile is fetched anew.
      source.addEventListener('open', () => {
        if (++opened > 1) for (const l of reconnectListeners) l();
      });
      for (const name of ['job.progress', 'job.done', 'store.changed'] as const) {
        source.addEventListener(name, (e) => {
          const payload = JSON.parse((e as MessageEvent<string>).data) as never;
          for (const l of listeners.get(name) ?? []) l(payload);
        });
      }
    }
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
    onReconnect: (l) => {
      reconnectListeners.add(l);
      return () => reconnectListeners.delete(l);
    },
    pathOfDroppedFile: () => undefined,
    downloadUrl: (store, snapshot, path) => {
      const q = new URLSearchParams({ token, store, type: snapshot.type, id: snapshot.id, time: String(snapshot.time), path });
      return `${base}/api/download?${q.toString()}`;
    },
  };
}
