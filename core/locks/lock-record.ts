import { z } from 'zod';
import { readRegularText } from '../fs/regular-file.js';

/** A lock or lease holder's record as Cairn writes it (process-lock.ts, lease.ts); fields a newer Cairn adds are kept. */
export const LockHolderRecord = z.looseObject({
  pid: z.int().positive(),
  pstart: z.int().optional(),
  host: z.string(),
  purpose: z.string(),
  startedAt: z.string(),
  thread: z.int().optional(),
  token: z.string().optional(),
});

export const LeaseRecord = LockHolderRecord.extend({
  resource: z.string(),
  kind: z.enum(['writer', 'reader']),
  id: z.string(),
});

/** Who claimed a lock's takeover; a start time of another shape is no start time. */
export const TakeoverClaim = z.object({ pid: z.int(), pstart: z.int().optional().catch(undefined), host: z.string() });

/**
 * A lock record, read whole and checked: undefined when it is missing, damaged (not JSON, cut short) or of
 * another shape, since such a file names no holder.
 */
export function readLockRecord<T>(path: string, schema: z.ZodType<T>): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(readRegularText(path, 64 * 1024)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
