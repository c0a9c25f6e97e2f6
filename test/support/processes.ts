import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';

/** The built project: child processes and worker threads load the compiled modules from here. */
export const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
export const CLI = resolve(DIST, 'cli', 'cairn.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Raw stdout (cat writes binary). */
  out: Buffer;
  stdout: string;
  stderr: string;
  /** Killed (SIGKILL) because it ran longer than the timeout given. */
  timedOut: boolean;
}

/**
 * Runs the built CLI as a child process with the Node that runs the tests; `timeoutMs` kills one that hangs, `input`
 * is its stdin (none otherwise).
 */
export function cairn(
  args: string[],
  options: {
    cwd?: string;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    input?: string;
    /** Run as this user (the tests run as root: a file of mode 000 is unreadable only to another user). */
    user?: { uid: number; gid: number };
  } = {},
): Promise<CliResult> {
  const env = { ...process.env, ...options.env };
  delete env.CAIRN_DEBUG;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? tmpdir(),
      env,
      ...options.user,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdin?.end(options.input);
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, options.timeoutMs);
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const bytes = Buffer.concat(out);
      resolvePromise({ code, signal, out: bytes, stdout: bytes.toString('utf8'), stderr, timedOut });
    });
  });
}

/** A failure as users see it: exit 1, nothing on stdout, one line 'cairn: error: ...' and no stack trace. */
export function expectCliError(r: CliResult, pattern: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.startsWith('cairn: error: '), r.stderr).toBe(true);
  expect(r.stderr.endsWith('\n')).toBe(true);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(pattern);
}

export interface ChildHandle<T = unknown> {
  pid: number;
  /** What the child passed to ready(). */
  message: T;
  child: ChildProcess;
  /** Everything the child printed after ready(), one JSON value per line. */
  lines: unknown[];
  /** SIGKILL, then wait until the process is gone (and reaped). */
  kill(): Promise<void>;
  /** Resolves with the exit code once the child ends by itself. */
  exited: Promise<number | null>;
}

/**
 * Runs `body` (an ES module body) in a separate Node process (with `options.env` added to the environment). It
 * may `await load('core/…/x.js')` to import a built module and must call `ready(value)` once set up; later
 * `emit(value)` lines arrive in `lines`. Children still alive after the test are killed.
 */
export function useChildScripts(): <T = unknown>(
  body: string,
  options?: { env?: NodeJS.ProcessEnv },
) => Promise<ChildHandle<T>> {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await gone;
      }
    }
  });
  return <T>(body: string, options: { env?: NodeJS.ProcessEnv } = {}) =>
    new Promise<ChildHandle<T>>((resolvePromise, reject) => {
      const script = `
      const { pathToFileURL } = await import('node:url');
      const load = (rel) => import(pathToFileURL(${JSON.stringify(DIST)} + '/' + rel).href);
      const emit = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
      const ready = emit;
      ${body}
    `;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...options.env },
      });
      children.push(child);
      let out = '';
      let err = '';
      let handle: ChildHandle<T> | undefined;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
      });
      child.on('error', reject);
      child.on('exit', (code) => {
        if (!handle) reject(new Error(`child exited before ready (${code}): ${err}`));
      });
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
          const value = JSON.parse(out.slice(0, nl)) as unknown;
          out = out.slice(nl + 1);
          if (handle) {
            handle.lines.push(value);
            continue;
          }
          handle = {
            pid: child.pid!,
            message: value as T,
            child,
            lines: [],
            exited,
            kill: () => {
              if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
              const gone = new Promise<void>((r) => child.once('exit', () => r()));
              child.kill('SIGKILL');
              return gone;
            },
          };
          resolvePromise(handle);
        }
      });
    });
}

export interface LockHolder {
  pid: number;
  purpose: string;
  child: ChildProcess;
  /** SIGKILL, then wait until the process is gone (and reaped). */
  kill(): Promise<void>;
}

/**
 * A second process that starts a backup session of `host/<id>` (group lock and writer lease) through the
 * built datastore and keeps it until killed, as a running backup in another process (the app, a second
 * CLI) would. Killed after each test.
 */
export function useLockHolders(): (storeRoot: string, id: string) => Promise<LockHolder> {
  const start = useChildScripts();
  return async (storeRoot, id) => {
    const h = await start<{ purpose: string }>(`
      const { Datastore } = await load('core/datastore/datastore.js');
      const lock = Datastore.open(${JSON.stringify(storeRoot)}).startBackup({ type: 'host', id: ${JSON.stringify(id)} });
      ready({ purpose: lock.purpose });
      setInterval(() => {}, 1 << 30);
    `);
    return { pid: h.pid, purpose: h.message.purpose, child: h.child, kill: h.kill };
  };
}

const FAKETIME_LIBS = [
  '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
  '/usr/lib/faketime/libfaketime.so.1',
];

/**
 * The environment that runs a process with its clock moved by `offset` (libfaketime's syntax: '-3s', '+1h'), as
 * another computer's clock would be. Only the process's clock moves: files it creates get the filesystem's own
 * stamps, as on a store shared over the network. Debian's faketime package; .ci/run installs it.
 */
export function skewedClock(offset: string): NodeJS.ProcessEnv {
  const lib = FAKETIME_LIBS.find((p) => existsSync(p));
  if (!lib)
    throw new Error(`libfaketime is not installed (apt-get install faketime); looked in ${FAKETIME_LIBS.join(', ')}`);
  return { LD_PRELOAD: lib, FAKETIME: offset };
}

/**
 * libfaketime keeps a shared-memory segment per process in /dev/shm and removes it at exit; a process killed with
 * SIGKILL leaves it behind. Removes those whose process is gone.
 */
export function removeFaketimeLeftovers(): void {
  let names: string[];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^(?:sem\.)?faketime_(?:shm|sem)_(\d+)$/.exec(name);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch {
      rmSync(`/dev/shm/${name}`, { force: true });
    }
  }
}

/**
 * Runs the built CLI on a terminal of its own (util-linux's `script` gives it a pty), typing each answer once its
 * prompt has appeared, as a person would. Resolves with the exit code and everything the terminal showed.
 */
export function cairnOnTerminal(
  args: string[],
  answers: { after: string; type: string }[],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; screen: string }> {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const command = [process.execPath, CLI, ...args].map(quote).join(' ');
  const env = { ...process.env, ...options.env };
  delete env.CAIRN_DEBUG;
  const child = spawn('script', ['-q', '-e', '-f', '-c', command, '/dev/null'], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let typed = 0;
  const onOutput = (d: Buffer) => {
    screen += d.toString();
    // The next answer once its prompt shows once more than for the answers to the same prompt before it.
    for (let next = answers[typed]; next; next = answers[typed]) {
      const earlier = answers.slice(0, typed).filter((a) => a.after === next!.after).length;
      if (screen.split(next.after).length - 1 <= earlier) break;
      child.stdin.write(next.type);
      typed++;
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, screen }));
  });
}
