import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { afterEach } from 'vitest';
import { CLI } from './processes.js';

export interface CliDaemon {
  pid: number;
  child: ChildProcess;
  /** Every line it printed on stdout so far. */
  lines: string[];
  stderr(): string;
  /** The first line matching `pattern`, printed already or within `timeoutMs`; rejects with what it printed. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the exit code (or signal) once it ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts the built CLI as a long-running child process (`cairn scheduler`) whose output is read line by line
 * while it runs. Children still alive after the test are killed (SIGKILL).
 */
export function useCliDaemons(): (args: string[], env?: NodeJS.ProcessEnv) => CliDaemon {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
  });
  return (args, env = {}) => {
    const childEnv = { ...process.env, ...env };
    delete childEnv.CAIRN_DEBUG;
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: tmpdir(),
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const lines: string[] = [];
    let partial = '';
    let err = '';
    const waiters = new Set<() => void>();
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      lines.push(...complete);
      for (const w of waiters) w();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
      child.once('exit', (code, signal) => r({ code, signal })),
    );
    const waitFor = (pattern: RegExp, timeoutMs = 15_000): Promise<string> =>
      new Promise((resolve, reject) => {
        const look = (): boolean => {
          const line = lines.find((l) => pattern.test(l));
          if (line === undefined) return false;
          finish();
          resolve(line);
          return true;
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${lines.join('\n')}\nstderr:\n${err}`,
            ),
          );
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        const check = (): void => void look();
        if (!look()) waiters.add(check);
      });
    return { pid: child.pid!, child, lines, stderr: () => err, waitFor, exited };
  };
}
