import { Worker } from 'node:worker_threads';
import { workerScriptUrl } from '../jobs/worker-url.js';
import type { Logger } from '../log.js';
import type { CountWorkerData, CountWorkerMessage } from './count-worker.js';
import type { FolderSources } from './multi-source.js';

/**
 * What a folder backup's progress counts toward while it walks the tree folder by folder. With a base, the
 * base's own figures (an estimate: most trees change little between backups). Without one, a worker thread
 * counts the tree beside the backup, and the totals grow until it is done; no ETA is given before then.
 * The backup's result always has the exact totals of its own walk.
 */
export class BackupTotals {
  files = 0;
  bytes = 0;
  /** The totals will not grow any more (counted, or taken from the base). */
  final = false;
  private worker: Worker | undefined;

  static fromBase(files: number, bytes: number): BackupTotals {
    const totals = new BackupTotals();
    Object.assign(totals, { files, bytes, final: true });
    return totals;
  }

  static counting(sources: FolderSources, storeRoot: string, excludes: readonly string[], log: Logger): BackupTotals {
    const totals = new BackupTotals();
    const data: CountWorkerData = {
      paths: sources.paths,
      storeRoot,
      excludes: [...excludes],
      startedAtMs: Date.now(),
    };
    // No flags of this process: it needs none, and some (a script's --input-type) would stop it from starting.
    const worker = new Worker(workerScriptUrl(import.meta.url, './count-worker.js'), {
      workerData: data,
      execArgv: [],
      name: 'cairn-count',
    });
    worker.unref();
    worker.on('message', (m: CountWorkerMessage) => totals.take(m));
    worker.on('error', (err) => log.info(`counting the files to back up failed: ${err.message}`));
    totals.worker = worker;
    return totals;
  }

  private take(message: CountWorkerMessage): void {
    if (message.type === 'error') return;
    this.files = message.totals.files;
    this.bytes = message.totals.bytes;
    if (message.final) {
      this.final = true;
      void this.close();
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
