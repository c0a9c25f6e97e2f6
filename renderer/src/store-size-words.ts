import { formatBytes, plural } from '../../contract/format.js';

/** "5.00 GiB in 1,234 chunks on disk", or "empty (no chunks on disk)" rather than "0 B in 0 chunks". */
export function usageWords(usage: { bytes: number; chunks: number }): string {
  return usage.chunks === 0
    ? 'empty (no chunks on disk)'
    : `${formatBytes(usage.bytes)} in ${plural(usage.chunks, 'chunk')} on disk`;
}
