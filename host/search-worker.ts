import { parentPort, workerData } from 'node:worker_threads';
import { CryptConfig } from '../core/blob/crypt-config.js';
import { toAppError } from './app-errors.js';
import { runSearch, searchScope } from './search.js';
import type { SearchReply, SearchWorkerData } from './search-messages.js';
import { openStore } from './store-views.js';

/** One search, on a thread of its own (ended to cancel it): first whether it can start, then its news. */
const port = parentPort;
if (!port) throw new Error('search-worker.js must run as a worker thread');
const { req, keys: raw } = workerData as SearchWorkerData;
const keys = raw.map((k) => new CryptConfig(k));
const post = (reply: SearchReply) => port.postMessage(reply);
let started = false;
try {
  const refs = searchScope(openStore(req.store), req, keys);
  post({ type: 'started', snapshots: refs.length });
  started = true;
  runSearch(req, refs, keys, (news) => post({ type: 'news', news }));
} catch (err) {
  post(started ? { type: 'failed', error: toAppError(err) } : { type: 'refused', error: toAppError(err) });
}
