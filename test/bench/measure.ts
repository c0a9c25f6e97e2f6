import { execFileSync } from 'node:child_process';

export interface Measurement {
  seconds: number;
  /** MB/s (10^6 bytes per second), the unit peers report. */
  mbps: number;
}

/** Median of `runs` timings of a synchronous or async function processing `bytes` bytes. */
export async function measure(bytes: number, fn: () => unknown, runs = 3): Promise<Measurement> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  const seconds = median(times);
  return { seconds, mbps: bytes / seconds / 1e6 };
}

/** The middle value (of an even count, the upper of the two middle ones). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** Times an external command (median of `runs`). */
export async function measureCommand(bytes: number, command: string, args: string[], runs = 3): Promise<Measurement> {
  return measure(bytes, () => execFileSync(command, args, { stdio: 'ignore', maxBuffer: 1 << 20 }), runs);
}

export function row(cells: (string | number)[], widths: number[]): string {
  return cells.map((c, i) => String(c).padEnd(widths[i] ?? 12)).join(' ');
}
