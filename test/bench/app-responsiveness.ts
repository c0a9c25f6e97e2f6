// The app host's event loop during a large folder backup: jobs run on worker threads, so the thread that
// answers the UI (Electron main, or the browser-mode server) must stay responsive. Goal: delay p99 < 50 ms.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { JobState } from '../../contract/jobs.js';
import { backupFolder } from '../../core/archive/folder-backup.js';
import { Datastore } from '../../core/datastore/datastore.js';
import { HostService } from '../../host/host-service.js';
import { tempDir, storeTempRoot } from '../support/temp.js';

const repoRoot = resolve(import.meta.dirname, '..', '..', '..');
const generator = resolve(repoRoot, 'test/bench/gen-dataset.cjs');

interface LoopStats {
  p50: number;
  p99: number;
  max: number;
  seconds: number;
}

async function withLoopMonitor(run: () => Promise<unknown>): Promise<LoopStats> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const t0 = performance.now();
  await run();
  const seconds = (performance.now() - t0) / 1000;
  histogram.disable();
  const ms = (ns: number) => ns / 1e6;
  return { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), seconds };
}

export async function appResponsivenessBench(): Promise<void> {
  if (!existsSync(generator)) {
    console.log(`\n(app responsiveness benchmark skipped: ${generator} not found)`);
    return;
  }
  const scale = process.env.CAIRN_BENCH_SCALE ?? '1';
  const dir = tempDir('bench-app', storeTempRoot());
  try {
    const source = join(dir, 'data');
    execFileSync(process.execPath, [generator, 'generate', source, '--scale', scale]);
    const bytes = Number(execFileSync('du', ['-sb', source]).toString().split('\t')[0]);
    console.log(
      `\n== Host event loop during a folder backup (shared dataset, scale ${scale}, ${(bytes / 1e6).toFixed(0)} MB) ==`,
    );

    // Through the app's job engine: the backup runs on a worker thread, this thread only relays progress.
    const service = new HostService({ platform: { host: 'web' }, dataDir: join(dir, 'app-data'), allowedRoots: [dir] });
    await Datastore.create(join(dir, 'store-app'), { syncLevel: 'none' });
    let progressEvents = 0;
    service.subscribe((event) => {
      if (event === 'job.progress') progressEvents++;
    });
    const viaEngine = await withLoopMonitor(async () => {
      const r = await service.handle('jobs.start', {
        kind: 'backup',
        store: join(dir, 'store-app'),
        source,
        id: 'bench',
        excludes: [],
      });
      if (!r.ok) throw new Error(r.error.message);
      const done = await service.engine.whenDone((r.value as JobState).id);
      if (done.status !== 'done') throw new Error(`backup ${done.status}: ${done.error?.message}`);
    });

    // The same backup called on this thread (what the app would do without the job engine), for comparison.
    const store = await Datastore.create(join(dir, 'store-inline'), { syncLevel: 'none' });
    const inline = await withLoopMonitor(() => backupFolder(store, source, { id: 'bench' }));

    const line = (name: string, s: LoopStats) =>
      console.log(
        `${name.padEnd(44)} ${s.seconds.toFixed(2).padStart(6)} s   ` +
          `loop delay p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`,
      );
    line('backup as an app job (worker thread)', viaEngine);
    line('backup on the host thread (no job engine)', inline);
    console.log(
      `  ${progressEvents} progress events pushed (${(progressEvents / viaEngine.seconds).toFixed(1)} per second); goal: p99 < 50 ms ` +
        `${viaEngine.p99 < 50 ? 'met' : 'NOT met'}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
