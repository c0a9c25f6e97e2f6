import { formatBytes, plural } from '../../contract/format.js';
import type { UsageSample } from '../../contract/model.js';

/**
 * "5.00 GiB in 1,234 chunks", or "empty (no chunks yet)" rather than "0 B in 0 chunks". The chunks' bytes, not
 * what the store's folder takes on the disk (its 65,536 chunk folders take room of their own).
 */
export function usageWords(usage: { bytes: number; chunks: number }): string {
  return usage.chunks === 0
    ? 'empty (no chunks yet)'
    : `${formatBytes(usage.bytes)} in ${plural(usage.chunks, 'chunk')}`;
}

/**
 * The newer of two counts of the store's size: the store bar's own (made when the store opened or changed) and the
 * dashboard's last sample (taken after each backup and GC), so that the bar never shows a size older than the
 * overview's beside it.
 */
export function freshestUsage(
  counted: UsageSample | undefined,
  sampled: UsageSample | undefined,
): UsageSample | undefined {
  if (!counted || !sampled) return counted ?? sampled;
  return sampled.time > counted.time ? sampled : counted;
}
