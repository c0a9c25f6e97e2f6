// The floor of a first backup on this machine: the work no backup of the dataset can skip, timed step by step on
// one thread with nothing else (no walk bookkeeping, no metadata stream, no threads, no index): read every file,
// cut the stream with the buzhash chunker, SHA-256 and zstd-1 every chunk, create every chunk file (tmp + rename).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBlob } from '../../core/blob/data-blob.js';
import { Chunker } from '../../core/chunker/chunker.js';
import { MiB } from '../../core/chunker/chunker-params.js';

export interface FloorFigures {
  files: number;
  bytes: number;
  chunks: number;
  /** Seconds each step took on one thread. */
  readSeconds: number;
  chunkSeconds: number;
  hashSeconds: number;
  compressSeconds: number;
  createSeconds: number;
}

/** Times the floor steps over `source`, writing chunk files under `scratch` (removed afterwards). */
export class FloorRun {
  private readonly figures: FloorFigures = {
    files: 0,
    bytes: 0,
    chunks: 0,
    readSeconds: 0,
    chunkSeconds: 0,
    hashSeconds: 0,
    compressSeconds: 0,
    createSeconds: 0,
  };
  // Cairn's payload stream: 1 MiB average chunks.
  private readonly chunker = new Chunker(MiB);
  private pending: Buffer[] = [];

  constructor(private readonly scratch: string) {}

  run(source: string): FloorFigures {
    mkdirSync(this.scratch, { recursive: true });
    try {
      this.walk(source);
      if (this.pending.length > 0) this.store(Buffer.concat(this.pending));
      return this.figures;
    } finally {
      rmSync(this.scratch, { recursive: true, force: true });
    }
  }

  private walk(dir: string): void {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) this.walk(path);
      else if (entry.isFile()) this.feed(this.timed('readSeconds', () => readFileSync(path)));
    }
  }

  private feed(data: Buffer): void {
    this.figures.files++;
    this.figures.bytes += data.length;
    const cuts = this.timed('chunkSeconds', () => this.chunker.scan(data));
    let start = 0;
    for (const cut of cuts) {
      this.pending.push(data.subarray(start, cut));
      this.store(Buffer.concat(this.pending));
      this.pending = [];
      start = cut;
    }
    if (start < data.length) this.pending.push(data.subarray(start));
  }

  private store(chunk: Buffer): void {
    this.figures.chunks++;
    const digest = this.timed('hashSeconds', () => createHash('sha256').update(chunk).digest('hex'));
    const blob = this.timed('compressSeconds', () => encodeBlob(chunk, { compress: true }));
    const prefix = join(this.scratch, digest.slice(0, 4));
    mkdirSync(prefix, { recursive: true }); // a store makes its 65,536 folders once, at init: not timed
    this.timed('createSeconds', () => {
      const tmp = join(prefix, `${digest}.tmp`);
      writeFileSync(tmp, blob);
      renameSync(tmp, join(prefix, digest));
    });
  }

  private timed<T>(step: keyof FloorFigures, fn: () => T): T {
    const t = performance.now();
    const out = fn();
    this.figures[step] += (performance.now() - t) / 1000;
    return out;
  }
}

/** Every floor step's seconds together: the floor on one thread. */
export function oneThreadSeconds(f: FloorFigures): number {
  return f.readSeconds + f.chunkSeconds + f.hashSeconds + f.compressSeconds + f.createSeconds;
}

/** The floor in words: each step's seconds and rate, one thread's total, and the total spread over `cores`. */
export function describeFloor(f: FloorFigures, cores: number): string[] {
  const rate = (s: number) => `${(f.bytes / s / 1e6).toFixed(0)} MB/s`;
  const oneThread = oneThreadSeconds(f);
  const step = (label: string, s: number, extra = rate(s)) =>
    `  ${label.padEnd(34)}${`${s.toFixed(2)} s`.padEnd(10)}${extra}`;
  return [
    `  floor of a first backup (${f.files} files, ${(f.bytes / 1e6).toFixed(0)} MB, ${f.chunks} chunks of 1 MiB average), one thread:`,
    step('read the files', f.readSeconds),
    step('buzhash chunker (WebAssembly)', f.chunkSeconds),
    step('SHA-256 per chunk', f.hashSeconds),
    step('zstd-1 + CRC32 per chunk', f.compressSeconds),
    step(
      'create chunk files (tmp + rename)',
      f.createSeconds,
      `${((f.createSeconds / f.chunks) * 1e6).toFixed(0)} µs a chunk`,
    ),
    step('one thread, all steps', oneThread),
    step(`spread over ${cores} cores`, oneThread / cores),
  ];
}

/** CPU seconds each thread of this process spent while `work` ran, by thread name (/proc/self/task, Linux). */
export async function cpuByThread(
  work: () => Promise<unknown>,
): Promise<{ wall: number; threads: Map<string, number> }> {
  const first = new Map<string, { name: string; start: number; last: number }>();
  const sample = (): void => {
    let tids: string[];
    try {
      tids = readdirSync('/proc/self/task');
    } catch {
      return; // not Linux: no figures
    }
    for (const tid of tids) {
      const cpu = threadCpuSeconds(tid);
      if (cpu === undefined) continue;
      const seen = first.get(tid);
      if (seen) seen.last = cpu.seconds;
      else first.set(tid, { name: cpu.name, start: cpu.seconds, last: cpu.seconds });
    }
  };
  sample();
  const timer = setInterval(sample, 20);
  const t = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const wall = (performance.now() - t) / 1000;
  sample();
  const threads = new Map<string, number>();
  for (const { name, start, last } of first.values())
    if (last > start) threads.set(name, (threads.get(name) ?? 0) + last - start);
  return { wall, threads };
}

/** A thread's name and its user + system CPU seconds so far, or undefined once it is gone. */
function threadCpuSeconds(tid: string): { name: string; seconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
    return { name, seconds: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch {
    return undefined;
  }
}

/** The per-thread figures in words, largest first. */
export function describeThreads(label: string, r: { wall: number; threads: Map<string, number> }): string[] {
  const total = [...r.threads.values()].reduce((a, b) => a + b, 0);
  return [
    `  ${label}: ${r.wall.toFixed(2)} s wall, ${total.toFixed(2)} s CPU (${(total / r.wall).toFixed(2)} cores busy on average)`,
    ...[...r.threads.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, s]) => `    ${name.padEnd(20)}${s.toFixed(2)} s CPU`),
  ];
}
