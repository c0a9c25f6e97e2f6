import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import type { UsageSample } from '../contract/model.js';
import { readJsonFile, writeJsonFileAtomic } from '../core/fs/json-file.js';

/** Samples kept per store: years of daily backups, weeks of hourly ones. */
const KEPT_SAMPLES = 1000;
const Sample = z.object({ time: z.number(), bytes: z.number(), chunks: z.number() });
const UsageFile = z.object({ version: z.literal(1), store: z.string(), samples: z.array(Sample) });

/**
 * How big each store was over time, for the dashboard's chart: a sample (the chunk folders counted) after each
 * backup and GC the app ran, kept in the config folder as `usage/<hash of the store's path>.json`. A history is
 * a convenience: a damaged one reads as empty and is replaced by the next sample.
 */
export class UsageHistory {
  constructor(private readonly configDir: string) {}

  samples(store: string): UsageSample[] {
    try {
      return readJsonFile(this.path(store), UsageFile, 'a usage history')?.samples ?? [];
    } catch {
      return [];
    }
  }

  record(store: string, sample: UsageSample): void {
    const samples = [...this.samples(store), sample].slice(-KEPT_SAMPLES);
    writeJsonFileAtomic(this.path(store), { version: 1, store, samples });
  }

  private path(store: string): string {
    const hash = createHash('sha256').update(store).digest('hex').slice(0, 24);
    return join(this.configDir, 'usage', `${hash}.json`);
  }
}
