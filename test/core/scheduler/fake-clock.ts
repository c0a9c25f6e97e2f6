import type { SchedulerClock } from '../../../core/scheduler/scheduler.js';

/** A clock for the scheduler whose time moves only when a test advances it; timers fire in time order. */
export class FakeClock implements SchedulerClock {
  private timers: { at: number; run: () => void; id: number }[] = [];
  private nextId = 1;
  /** Every delay the scheduler asked for, to check it never polls faster than it must. */
  readonly delays: number[] = [];

  constructor(public time: number) {}

  now(): number {
    return this.time;
  }

  setTimeout(run: () => void, ms: number): unknown {
    this.delays.push(ms);
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, run, id });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Moves time forward by `ms`, firing each timer due on the way at its own time; lets async work settle. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.at);
      next.run();
    }
    this.time = end;
    await settle();
  }

  /** Sets the wall clock (a clock set by hand, a resume after sleep): pending timers keep their monotonic delay. */
  jump(to: number): void {
    const delta = to - this.time;
    this.time = to;
    for (const t of this.timers) t.at += delta;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}
