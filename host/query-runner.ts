import { Worker } from 'node:worker_threads';
import type { ActionRequest, ActionResponse } from '../contract/actions.js';
import { exitedThreadTable, markThreadExited } from '../core/locks/lock-owner.js';
import { AppError } from './app-errors.js';
import type { QueryAction } from './queries.js';
import type { QueryReply, QueryRequest } from './query-messages.js';
import { workerScriptUrl } from '../core/jobs/worker-url.js';
import type { RemoteAccess } from './host-remotes.js';

/**
 * Sends read-only queries to one long-lived worker thread (started on first use, restarted if it dies) and
 * matches the answers to the callers. The worker keeps its caches between queries.
 */
export class QueryRunner {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();

  /** `keys`: raw key bytes for the worker (browse, diff), wiped here once posted; `remote`: a remote to read. */
  run<K extends QueryAction>(
    action: K,
    req: ActionRequest<K>,
    keys?: Uint8Array[],
    remote?: RemoteAccess,
  ): Promise<ActionResponse<K>> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    // Referenced while a query is out (the caller waits on it), unreferenced when idle.
    worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({
        id,
        action,
        req,
        ...(keys ? { keys } : {}),
        ...(remote ? { remote } : {}),
      } satisfies QueryRequest);
      // Copied to the worker by postMessage: the caller's copy is wiped.
      for (const key of keys ?? []) key.fill(0);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(workerScriptUrl(import.meta.url, './query-worker.js'), {
      workerData: { exitedThreads: exitedThreadTable() },
      name: 'cairn-query',
    });
    const thread = worker.threadId;
    worker.on('message', (reply: QueryReply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      // An idle query worker must not keep the process alive.
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new AppError(reply.error.code, reply.error.message, reply.error.keyFingerprint));
    });
    const fail = (message: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, waiter] of this.pending) {
        this.pending.delete(id);
        waiter.reject(new AppError('INTERNAL', message));
      }
    };
    worker.on('error', (err) => fail(`the query worker failed: ${err.message}`));
    worker.on('exit', (code) => {
      markThreadExited(thread);
      fail(`the query worker stopped (exit code ${code})`);
    });
    this.worker = worker;
    return worker;
  }
}
