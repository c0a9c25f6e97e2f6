/**
 * Runs a job's transfers (uploads or downloads) at most `limit` at a time. The first failure stops new work:
 * `add` and `drain` throw it once what is running has settled, so nothing is left in flight behind an error.
 */
export class TransferPool {
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit: number) {}

  /** Waits for a free place, then starts `task`. */
  async add(task: () => Promise<void>): Promise<void> {
    while (this.running.size >= this.limit && !this.failure) await Promise.race(this.running);
    if (this.failure) return this.drain();
    const done: Promise<void> = task()
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => this.running.delete(done));
    this.running.add(done);
  }

  /** Waits for every transfer; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.running);
    if (this.failure) throw this.failure.error;
  }
}
