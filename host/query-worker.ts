import { parentPort, workerData } from 'node:worker_threads';
import { useExitedThreadTable } from '../core/locks/lock-owner.js';
import { toAppError } from './app-errors.js';
import { createQueries, type QueryAction } from './queries.js';
import type { QueryReply, QueryRequest } from './query-messages.js';
import { CryptConfig } from '../core/blob/crypt-config.js';

/** Answers the service's read-only queries, one at a time, off the host's main thread. */
const port = parentPort;
if (!port) throw new Error('query-worker.js must run as a worker thread');
useExitedThreadTable((workerData as { exitedThreads: SharedArrayBuffer }).exitedThreads);
const queries = createQueries();

port.on('message', async ({ id, action, req, keys, remote }: QueryRequest) => {
  let reply: QueryReply;
  try {
    const run = queries[action as QueryAction] as (r: unknown, k: CryptConfig[], remote?: unknown) => unknown;
    reply = {
      id,
      ok: true,
      value: await run(
        req,
        (keys ?? []).map((raw) => new CryptConfig(raw)),
        remote,
      ),
    };
  } catch (err) {
    reply = { id, ok: false, error: toAppError(err) };
  }
  port.postMessage(reply);
});
