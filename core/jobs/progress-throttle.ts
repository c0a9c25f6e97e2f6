/**
 * Passes on at most one value per interval: the first at once, later ones coalesced into one trailing emit so
 * the latest state is never held back longer than the interval. flush() emits now (a job's final state).
 */
export class ProgressThrottle<T> {
  private last = -Infinity;
  private pending: T | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly emit: (value: T) => void,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(value: T): void {
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0 && this.timer === undefined) {
      this.last = this.now();
      this.emit(value);
      return;
    }
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
