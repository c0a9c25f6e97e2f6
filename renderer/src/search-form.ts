import type { SearchQuery } from '../../contract/find.js';

/** The search form's fields as typed: a name or pattern, sizes ("10M", "1.5 GB"), dates (YYYY-MM-DD). */
export interface SearchFields {
  pattern: string;
  minSize: string;
  maxSize: string;
  /** Modified on or after this day; modified before this day (local days). */
  after: string;
  before: string;
}

export const NO_FIELDS: SearchFields = { pattern: '', minSize: '', maxSize: '', after: '', before: '' };

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "10M", "1.5 GiB", "500 kb", "2048": bytes (units of 1024, as the app shows sizes); undefined if not a size. */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+(?:[.,]\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]!.replace(',', '.')) * UNITS[m[2]!.toLowerCase()]!);
}

/** The start of a local day "YYYY-MM-DD" in epoch ms (what a date field gives). */
export function dayStart(text: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(text);
  if (!m) return undefined;
  const ms = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** The query the fields make, or what is wrong with them (nothing is asked of the host then). */
export function searchQuery(f: SearchFields): { query: SearchQuery } | { error: string } {
  const pattern = f.pattern.trim();
  if (pattern === '') return { error: 'Type a name, a part of one, or a pattern such as *.pdf' };
  const query: SearchQuery = { pattern };
  for (const [field, key, label] of [
    ['minSize', 'minSize', 'At least'],
    ['maxSize', 'maxSize', 'At most'],
  ] as const) {
    if (f[field].trim() === '') continue;
    const n = parseSize(f[field]);
    if (n === undefined) return { error: `${label}: a size such as 500K, 10M or 1.5G` };
    query[key] = n;
  }
  if (f.after !== '') query.newerThan = dayStart(f.after);
  if (f.before !== '') query.olderThan = dayStart(f.before);
  if (query.minSize !== undefined && query.maxSize !== undefined && query.minSize > query.maxSize)
    return { error: 'At least is more than at most: nothing could match' };
  if (query.newerThan !== undefined && query.olderThan !== undefined && query.newerThan >= query.olderThan)
    return { error: 'The “modified before” day must come after the “on or after” day' };
  return { query };
}
