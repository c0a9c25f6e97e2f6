/**
 * How Cairn shows quantities and times, in the app and on the command line alike: bytes, rates, durations, counts
 * with their noun, times of day. Pure functions (no Node, no DOM), so the CLI, the host and the renderer share one
 * copy. An unknown value (undefined) shows as "–".
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Binary units, three significant digits: "512 B", "1.50 KiB", "23.4 MiB", "512 GiB". */
export function formatBytes(n: number | undefined): string {
  if (n === undefined) return '–';
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[u]}`;
}

/** "12.3 MiB/s". */
export function formatRate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond === undefined ? '–' : `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** A length of time, to the second below an hour: "42 s", "3 min 5 s", "2 h 14 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

/**
 * How long ago, roughly: "just now", "under a minute ago", "5 min ago", "3 h ago", "2 days ago". Not to the second:
 * relative times on screen move on every 30 s.
 */
export function formatAgo(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 5) return 'just now';
  return s < 60 ? 'under a minute ago' : `${roughSpan(s)} ago`;
}

/**
 * How long until: "in a moment", "in under a minute", "in 5 min", "in 1 h 59 min", "in 1 day 8 h", "in 12 days".
 * Below ten hours or days the next unit is named too, so runs an hour apart never read alike.
 */
export function formatIn(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 5) return 'in a moment';
  if (s < 60) return 'in under a minute';
  return `in ${roughSpan(s)}${nextUnit(s)}`;
}

/** " 59 min" after "1 h", " 8 h" after "1 day": below ten of the largest unit, what is left in the next one. */
function nextUnit(s: number): string {
  let rest = 0;
  let unit = '';
  if (s >= 3600 && s < 10 * 3600) [rest, unit] = [Math.floor((s % 3600) / 60), 'min'];
  else if (s >= 86_400 && s < 10 * 86_400) [rest, unit] = [Math.floor((s % 86_400) / 3600), 'h'];
  return rest > 0 ? ` ${rest} ${unit}` : '';
}

/** A span of seconds in its largest whole unit: "42 s", "5 min", "3 h", "2 days". */
function roughSpan(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return plural(Math.floor(s / 86400), 'day');
}

/**
 * A count with thousands separators: "1,234,567". A whole number's commas are put in here: a process's first
 * toLocaleString loads ICU's number formats (~12 ms, measured), a part of every short CLI command's time.
 */
export function formatCount(n: number | undefined): string {
  if (n === undefined) return '–';
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  return `${n < 0 ? '-' : ''}${String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',')}`;
}

/** A count with its noun, singular for exactly one: "1 snapshot", "2 snapshots", "1,000 entries" (irregular: give the plural). */
export function plural(n: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : pluralForm}`;
}

/** Epoch seconds as local date and time, e.g. "2026-11-24 21:03:07". */
export function formatTime(epochSeconds: number | undefined): string {
  if (epochSeconds === undefined) return '–';
  const d = new Date(epochSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A moment within today's work (a log line), local and 24-hour like formatTime: "21:03:07". */
export function formatClock(epochMs: number): string {
  return formatTime(epochMs / 1000).slice(11);
}

/** An ISO date-time (a file's mtime, GC's start) as formatTime shows times: local, to the second. */
export function formatIsoTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : formatTime(ms / 1000);
}
