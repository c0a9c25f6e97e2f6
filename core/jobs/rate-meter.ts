import { ProgressThrottle } from './progress-throttle.js';

/** No ETA before this much time has passed: early rates are noise (start-up, cold caches). */
export const ETA_DELAY_MS = 3000;
const WINDOW_MS = 5000;

export interface RateSample {
  /** Bytes per second over the last few seconds. */
  rate: number;
  /** Seconds left at that rate, once there is enough history. */
  etaSeconds?: number;
  elapsedMs: number;
}

/** Rate over a sliding window and an ETA from it. `now` is injectable for tests. */
export class RateMeter {
  private readonly start: number;
  private readonly samples: { t: number; done: number }[] = [];

  constructor(
    private total: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
    this.samples.push({ t: this.start, done: 0 });
  }

  setTotal(total: number): void {
    this.total = total;
  }

  sample(done: number): RateSample {
    const t = this.now();
    this.samples.push({ t, done });
    while (this.samples.length > 2 && t - this.samples[0]!.t > WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const dt = (t - first.t) / 1000;
    const rate = dt > 0 ? Math.max(0, (done - first.done) / dt) : 0;
    const elapsedMs = t - this.start;
    const etaSeconds = elapsedMs >= ETA_DELAY_MS && rate > 0 ? Math.max(0, (this.total - done) / rate) : undefined;
    return { rate, etaSeconds, elapsedMs };
  }
}

/** Calls `emit` at most every `intervalMs`; `flush` always emits (the final state is never dropped). */
export function throttle<T>(
  emit: (value: T) => void,
  intervalMs: number,
  now?: () => number,
): Pick<ProgressThrottle<T>, 'push' | 'flush'> {
  return new ProgressThrottle(emit, intervalMs, { now });
}

/** Lets pending I/O callbacks, timers and abort signals run between slices of synchronous work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A turn of the event loop at most every `everyMs` during long synchronous work (progress goes out, a cancel
 * comes in). `due()` returns a promise only when it is time, so a hot loop pays no await in between.
 */
export class EventLoopTurns {
  private last = performance.now();

  constructor(private readonly everyMs = 50) {}

  due(): Promise<void> | undefined {
    if (performance.now() - this.last <= this.everyMs) return undefined;
    return yieldToEventLoop().then(() => {
      this.last = performance.now();
    });
  }
}
