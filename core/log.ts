/** Where core writes warnings (skipped files, stale locks, missing chunks): the job log in the app, stderr in the CLI. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {} };

/** Keeps every line; jobs attach these to their result. */
export class MemoryLogger implements Logger {
  readonly lines: { level: 'info' | 'warn'; message: string }[] = [];
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
}
