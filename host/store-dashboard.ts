import { statfsSync } from 'node:fs';
import type { JobKind, JobState } from '../contract/jobs.js';
import type { StoreDashboard } from '../contract/model.js';
import type { Logger } from '../core/log.js';
import type { QueryRunner } from './query-runner.js';
import { UsageHistory } from './usage-history.js';

/** Jobs after which a store's size is sampled: they add or free chunks. */
const CHANGES_SIZE: ReadonlySet<JobKind> = new Set(['backup', 'backup-image', 'gc', 'plan-run', 'pull']);

/**
 * The figures of a store's dashboard: free space on its disk, its size over time (sampled after each job that
 * adds or frees chunks, when the host keeps a config folder) and its recent snapshots.
 */
export class StoreDashboards {
  private readonly usage: UsageHistory | undefined;

  constructor(
    configDir: string | undefined,
    private readonly queries: QueryRunner,
    private readonly scans: QueryRunner,
    private readonly log?: Logger,
  ) {
    this.usage = configDir === undefined ? undefined : new UsageHistory(configDir);
  }

  async dashboard(store: string): Promise<StoreDashboard> {
    return {
      disk: diskSpace(store),
      sizeHistory: this.usage?.samples(store) ?? [],
      activity: await this.queries.run('store.activity', { store }),
    };
  }

  /**
   * After a job ended: a sample of its store's size, counted on the scan worker (it may take seconds);
   * `sampled` is told once it is recorded, so a dashboard that is open can read it.
   */
  sampleAfter(job: JobState, sampled?: (store: string) => void): void {
    // A failed job that keeps a result made part of its work (a plan's backup before its off-site copy failed).
    const didWork = job.status === 'done' || job.status === 'attention' || (job.status === 'failed' && !!job.result);
    if (!this.usage || !CHANGES_SIZE.has(job.kind) || !didWork) return;
    const usage = this.usage;
    this.scans
      .run('store.usage', { store: job.store })
      .then((u) => {
        usage.record(job.store, { time: Date.now(), ...u });
        sampled?.(job.store);
      })
      .catch((err: unknown) => this.log?.warn(`could not sample the size of ${job.store}: ${(err as Error).message}`));
  }
}

function diskSpace(path: string): StoreDashboard['disk'] {
  try {
    const st = statfsSync(path);
    return { freeBytes: st.bavail * st.bsize, totalBytes: st.blocks * st.bsize };
  } catch {
    return undefined;
  }
}
