export interface ThrottleOptions {
  /**
   * Also pass on the last value held back, once the interval is over (the host's job events, so the latest
   * state is never held back longer than the interval). Without it a held-back value is dropped: for core's
   * loops, which push again soon and flush at the end.
   */
  trailing?: boolean;
  /** Injectable for tests. */
  now?: () => number;
}

/**
 * Passes on at most one value per interval, the first at once (progress events of jobs and of core's GC,
 * verify, backup and restore). flush() emits now: a final state is never dropped.
 */
export class ProgressThrottle<T> {
  private last = -Infinity;
  private pending: T | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly trailing: boolean;
  private readonly now: () => number;

  constructor(
    private readonly emit: (value: T) => void,
    private readonly intervalMs: number,
    options: ThrottleOptions = {},
  ) {
    this.trailing = options.trailing ?? false;
    this.now = options.now ?? (() => performance.now());
  }

  push(value: T): void {
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0 && this.timer === undefined) {
      this.last = this.now();
      this.emit(value);
      return;
    }
    if (!this.trailing) return;
    this.pending = value;
    this.timer ??= setTimeout(
      () => {
        this.timer = undefined;
        const value = this.pending as T;
        this.pending = undefined;
        this.last = this.now();
        this.emit(value);
      },
      Math.max(0, wait),
    );
  }

  /** Drops anything pending and emits `value` now. */
  flush(value: T): void {
    this.cancel();
    this.last = this.now();
    this.emit(value);
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }
}
