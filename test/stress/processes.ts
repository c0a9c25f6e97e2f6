import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = resolve(here, '..', '..');
export const CLI = join(DIST, 'cli', 'cairn.js');
export const STRESS_CHILD = join(DIST, 'test', 'support', 'stress-child.js');

export interface Run {
  child: ChildProcess;
  done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
    timedOut: boolean;
  }>;
}

/** A child process with its output kept; killed with SIGKILL after `timeoutMs` (counted as a hang by callers). */
export function start(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run {
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs)
    : undefined;
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const done = new Promise<Awaited<Run['done']>>((r) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      r({ code, signal, stdout, stderr, timedOut });
    }),
  );
  return { child, done };
}

export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Run['done'] {
  return start([CLI, ...args], options).done;
}

/** The environment that moves a process's clock (Debian's libfaketime), or undefined when it is not installed. */
export function skewed(offset: string): NodeJS.ProcessEnv | undefined {
  const lib = [
    '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
    '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  ].find((p) => existsSync(p));
  return lib ? { LD_PRELOAD: lib, FAKETIME: offset } : undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
