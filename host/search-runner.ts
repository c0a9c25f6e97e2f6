import { Worker } from 'node:worker_threads';
import type { SearchRequest, SearchUpdate } from '../contract/find.js';
import { workerScriptUrl } from '../core/jobs/worker-url.js';
import { AppError } from './app-errors.js';
import type { SearchReply, SearchWorkerData } from './search-messages.js';

interface Running {
  worker: Worker;
  done: number;
  total: number;
}

/**
 * Runs each search on a thread of its own, so a search of a big group never holds up the host or its other
 * queries, and cancelling one is ending its thread (a search only reads). At most `limit` run at once: a new
 * one beyond that ends the oldest, which is told it was cancelled.
 */
export class SearchRunner {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly emit: (update: SearchUpdate) => void,
    private readonly limit = 2,
  ) {}

  /** Resolves once the search could start (how many snapshots it reads), or rejects with why it cannot. */
  start(req: SearchRequest, keys: Uint8Array[]): Promise<{ snapshots: number }> {
    this.cancel(req.searchId);
    while (this.running.size >= this.limit) this.cancel(this.running.keys().next().value!);
    const worker = new Worker(workerScriptUrl(import.meta.url, './search-worker.js'), {
      workerData: { req, keys } satisfies SearchWorkerData,
      name: 'cairn-search',
    });
    // Copied into the worker's data: the caller's copy is wiped.
    for (const key of keys) key.fill(0);
    const entry: Running = { worker, done: 0, total: 0 };
    this.running.set(req.searchId, entry);
    return new Promise((resolve, reject) => {
      worker.on('message', (reply: SearchReply) => {
        if (reply.type === 'refused')
          reject(new AppError(reply.error.code, reply.error.message, reply.error.keyFingerprint));
        if (reply.type === 'started') {
          entry.total = reply.snapshots;
          resolve({ snapshots: reply.snapshots });
        }
        if (this.running.get(req.searchId) !== entry) return; // cancelled meanwhile: nothing more is told
        if (reply.type === 'news') this.news(req.searchId, entry, reply.news);
        if (reply.type === 'failed') this.end(req.searchId, 'failed', reply.error);
        if (reply.type === 'refused') this.running.delete(req.searchId);
      });
      worker.on('error', (err) => {
        reject(new AppError('INTERNAL', `the search failed: ${err.message}`));
        if (this.running.get(req.searchId) === entry)
          this.end(req.searchId, 'failed', { code: 'INTERNAL', message: err.message });
      });
      worker.on('exit', () => {
        const mine = this.running.get(req.searchId) === entry;
        // Settled already unless it ended before it could start (cancelled, or its thread died).
        reject(new AppError(mine ? 'INTERNAL' : 'CANCELLED', 'the search stopped before it began'));
        if (mine) this.end(req.searchId, 'failed', { code: 'INTERNAL', message: 'the search stopped' });
      });
    });
  }

  /** Ends a running search (its thread), telling it was cancelled; false if none runs under that id. */
  cancel(searchId: string): boolean {
    if (!this.running.has(searchId)) return false;
    this.end(searchId, 'cancelled');
    return true;
  }

  /** Ends every search (the host is shutting down). */
  async close(): Promise<void> {
    const workers = [...this.running.values()].map((r) => r.worker);
    this.running.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private news(searchId: string, entry: Running, news: Omit<SearchUpdate, 'searchId'>): void {
    entry.done = news.snapshotsDone;
    if (news.state !== 'running') this.running.delete(searchId);
    this.emit({ searchId, ...news });
  }

  private end(searchId: string, state: 'cancelled' | 'failed', error?: SearchUpdate['error']): void {
    const entry = this.running.get(searchId)!;
    this.running.delete(searchId);
    void entry.worker.terminate();
    this.emit({
      searchId,
      hits: [],
      snapshotsDone: entry.done,
      snapshotsTotal: entry.total,
      state,
      ...(error ? { error } : {}),
    });
  }
}
