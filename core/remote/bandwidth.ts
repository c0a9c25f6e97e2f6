/**
 * A bandwidth limit shared by a job's parallel transfers: a token bucket refilled at `bytesPerSecond`, holding at
 * most one second's worth, so a burst after a pause stays short. `take` waits until the bytes may go.
 */
export class BandwidthLimit {
  private tokens: number;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = bytesPerSecond;
    this.last = now();
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond);
      this.last = t;
      // A transfer larger than the bucket goes once it is full, so it never waits forever.
      if (this.tokens >= Math.min(bytes, this.bytesPerSecond)) {
        this.tokens -= bytes;
        return;
      }
      if (signal?.aborted) return;
      const wait = ((Math.min(bytes, this.bytesPerSecond) - this.tokens) / this.bytesPerSecond) * 1000;
      await new Promise((r) => setTimeout(r, Math.min(Math.max(wait, 5), 250)));
    }
  }
}
