import { formatBytes, formatDuration, formatRate } from '../../contract/format.js';

export interface BarState {
  done: number;
  total: number;
  rate?: number;
  etaSeconds?: number;
  label?: string;
}

/** What every job's progress reports of the bytes it has done (a backup's, a restore's, a push's…). */
export interface ByteProgress {
  bytesDone: number;
  bytesTotal: number;
  rate?: number;
  etaSeconds?: number;
}

/** One self-rewriting progress line on a terminal; silent when stderr is not a TTY (scripts, CI, --json). */
export class TtyProgress {
  private readonly enabled: boolean;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    enabled?: boolean,
  ) {
    this.enabled = enabled ?? Boolean(stream.isTTY);
  }

  /** Whether the line is drawn at all (a job need not work out figures nobody sees). */
  get shown(): boolean {
    return this.enabled;
  }

  /** A job's byte progress, with what it is at. */
  bytes(p: ByteProgress, label?: string): void {
    this.update({ done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds, label });
  }

  update(state: BarState, unit: 'bytes' | 'count' = 'bytes'): void {
    if (!this.enabled) return;
    const width = 24;
    const fraction = state.total > 0 ? Math.min(1, state.done / state.total) : 1;
    const filled = Math.round(fraction * width);
    const amount =
      unit === 'bytes' ? `${formatBytes(state.done)} / ${formatBytes(state.total)}` : `${state.done} / ${state.total}`;
    const parts = [
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`,
      `${(fraction * 100).toFixed(0).padStart(3)}%`,
      amount,
    ];
    if (state.rate !== undefined && unit === 'bytes') parts.push(formatRate(state.rate));
    if (state.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(state.etaSeconds)}`);
    if (state.label) parts.push(state.label);
    const columns = this.stream.columns || 100;
    this.stream.write(`\r${parts.join('  ').slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** A line of text in the bar's place, for a step without counts ("garbage collection"). */
  status(text: string): void {
    if (!this.enabled) return;
    const columns = this.stream.columns || 100;
    this.stream.write(`\r${text.slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  done(): void {
    if (this.enabled && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
