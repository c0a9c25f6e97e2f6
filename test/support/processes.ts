import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, expect } from 'vitest';

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist');
export const CLI = resolve(DIST, 'core', 'cli', 'cairn.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Raw stdout (cat writes binary). */
  out: Buffer;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process with the Node that runs the tests. */
export function cairn(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  const env = { ...process.env };
  delete env.CAIRN_DEBUG;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const bytes = Buffer.concat(out);
      resolvePromise({ code, signal, out: bytes, stdout: bytes.toString('utf8'), stderr });
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

export interface LockHolder {
  pid: number;
  purpose: string;
  child: ChildProcess;
  /** SIGKILL, then wait until the process is gone (and reaped). */
  kill(): Promise<void>;
}

/**
 * A second process that takes the group lock of `host/<id>` through the built datastore and keeps it until
 * killed, as a running backup in another process (the app, a second CLI) would. Killed after each test.
 */
export function useLockHolders(): (storeRoot: string, id: string) => Promise<LockHolder> {
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
  return (storeRoot, id) => new Promise<LockHolder>((resolvePromise, reject) => {
    const datastoreUrl = pathToFileURL(resolve(DIST, 'core', 'datastore', 'datastore.js')).href;
    const script = `
      const { Datastore } = await import(${JSON.stringify(datastoreUrl)});
      const lock = Datastore.open(${JSON.stringify(storeRoot)}).startBackup({ type: 'host', id: ${JSON.stringify(id)} });
      process.stdout.write(JSON.stringify({ pid: process.pid, purpose: lock.purpose }) + '\\n');
      setInterval(() => {}, 1 << 30);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`lock holder exited early (${code}): ${err}`)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      const { pid, purpose } = JSON.parse(out.slice(0, nl)) as { pid: number; purpose: string };
      resolvePromise({
        pid, purpose, child,
        kill: () => {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
          const gone = new Promise<void>((r) => child.once('exit', () => r()));
          child.kill('SIGKILL');
          return gone;
        },
      });
    });
  });
}
