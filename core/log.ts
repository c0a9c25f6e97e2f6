/** Where core writes warnings (skipped files, stale locks, missing chunks): the job log in the app, stderr in the CLI. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {} };

/** Keeps every line, and passes each on to `forward` if given (a job's live log); jobs attach the kept lines to their result. */
export class MemoryLogger implements Logger {
  readonly lines: { level: 'info' | 'warn'; message: string }[] = [];

  constructor(private readonly forward?: Logger) {}

  info(message: string): void {
    this.lines.push({ level: 'info', message });
    this.forward?.info(message);
  }

  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
    this.forward?.warn(message);
  }

  /** The warnings kept so far, in order. */
  warnings(): string[] {
    return this.lines.filter((l) => l.level === 'warn').map((l) => l.message);
  }
}
