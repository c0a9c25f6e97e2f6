/**
 * The times of a PBS key file (proxmox-time's posix.rs, `epoch_to_rfc3339` and `parse_rfc3339`): written as local
 * time with a ±HH:MM offset, never `Z`, whole seconds; read in that form or as UTC with `Z`, nothing else.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:Z|([+-])(\d{2}):(\d{2}))$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2024-06-05T16:24:36+02:00` in the process's time zone (TZ). */
export function localRfc3339(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const offset = -d.getTimezoneOffset();
  const abs = Math.abs(offset);
  const date = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date}T${time}${offset < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Epoch seconds, or undefined for text PBS would not parse (its field limits: month ≤ 12, day ≤ 31, second ≤ 60). */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const offHours = Number(m[8] ?? 0);
  const offMinutes = Number(m[9] ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  if (offHours > 23 || offMinutes > 59) return undefined;
  // setUTCFullYear, not Date.UTC: that one maps years 0..99 to 1900..1999. Like mktime, a 31 February rolls over.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  const offset = (offHours * 60 + offMinutes) * 60;
  return d.getTime() / 1000 + (m[7] === '-' ? offset : -offset);
}
