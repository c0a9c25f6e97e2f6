import { API_METHODS, type ApiMethod, type RawApi } from '../../contract/actions.js';
import type { AppErrorInfo, Result } from '../../contract/errors.js';
import type { HostEventName, HostEvents } from '../../contract/events.js';
import type { Transport } from '../../renderer/src/api/client.js';

type Answer = (req: never) => unknown;

/**
 * An in-memory host for renderer tests: each method answers from a table the test fills (a value, or an
 * AppErrorInfo thrown as `fail(...)`), every call is recorded, and events are pushed by the test.
 */
export class FakeTransport implements Transport {
  readonly calls: { method: ApiMethod; req: unknown }[] = [];
  readonly answers: Partial<Record<ApiMethod, Answer>> = {};
  private readonly listeners = new Map<HostEventName, Set<(payload: never) => void>>();
  readonly raw: RawApi;

  constructor() {
    const raw = {} as Record<ApiMethod, (req: unknown) => Promise<Result<unknown>>>;
    for (const method of Object.keys(API_METHODS) as ApiMethod[]) {
      raw[method] = async (req) => {
        this.calls.push({ method, req });
        const answer = this.answers[method];
        if (!answer) return { ok: false, error: { code: 'INTERNAL', message: `no answer for ${method}` } };
        try {
          return { ok: true, value: await answer(req as never) };
        } catch (err) {
          if (err instanceof Failure) return { ok: false, error: err.info };
          throw err;
        }
      };
    }
    this.raw = raw as unknown as RawApi;
  }

  called(method: ApiMethod): unknown[] {
    return this.calls.filter((c) => c.method === method).map((c) => c.req);
  }

  push<K extends HostEventName>(event: K, payload: HostEvents[K]): void {
    for (const l of this.listeners.get(event) ?? []) l(payload as never);
  }

  private on(event: HostEventName, listener: (payload: never) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    this.listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  }

  onJobProgress = (l: (p: HostEvents['job.progress']) => void) =>
    this.on('job.progress', l as (payload: never) => void);
  onJobDone = (l: (p: HostEvents['job.done']) => void) => this.on('job.done', l as (payload: never) => void);
  onStoreChanged = (l: (p: HostEvents['store.changed']) => void) =>
    this.on('store.changed', l as (payload: never) => void);
  onPlansChanged = (l: (p: HostEvents['plans.changed']) => void) =>
    this.on('plans.changed', l as (payload: never) => void);
  onPlanNotice = (l: (p: HostEvents['plan.notice']) => void) => this.on('plan.notice', l as (payload: never) => void);
  onSearchUpdate = (l: (p: HostEvents['search.update']) => void) =>
    this.on('search.update', l as (payload: never) => void);
  private readonly reconnectListeners = new Set<() => void>();
  onReconnect = (l: () => void) => {
    this.reconnectListeners.add(l);
    return () => {
      this.reconnectListeners.delete(l);
    };
  };
  reconnect(): void {
    for (const l of this.reconnectListeners) l();
  }
  pathOfDroppedFile = () => undefined;
  downloadUrl = () => undefined;
}

export class Failure extends Error {
  constructor(readonly info: AppErrorInfo) {
    super(info.message);
  }
}

export function fail(code: AppErrorInfo['code'], message: string): never {
  throw new Failure({ code, message });
}
