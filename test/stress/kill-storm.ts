import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { restoreFolder } from '../../core/archive/folder-restore.js';
import { parseSnapshotPath } from '../../core/backup/backup-names.js';
import { Datastore } from '../../core/datastore/datastore.js';
import type { VerifyResult } from '../../core/verify/verify.js';
import { treeHashes, type SnapshotRecord } from '../support/stress-records.js';
import { cli, skewed, sleep, start, STRESS_CHILD, type Run } from './processes.js';
import type { Tally } from './tally.js';

const SKEWS = ['-3s', '+3s', '-1h', '+1h'];

/**
 * Rounds of four processes on one store (two backups of changing trees, one of them with its clock moved by
 * seconds or hours; GC in a loop; prune in a loop), one to three of them killed with SIGKILL at a random
 * moment. Then a last GC, verify of every snapshot, and a restore of every snapshot whose backup finished,
 * compared file by file with what was backed up.
 */
export async function killStorm(work: string, rounds: number, tally: Tally, random: () => number): Promise<void> {
  const store = join(work, 'store');
  const records = join(work, 'records');
  mkdirSync(records, { recursive: true });
  const init = await cli(['init', store, '--sync', 'none']);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  const sources = ['alpha', 'beta'].map((id) => {
    mkdirSync(join(work, id), { recursive: true });
    return { id, src: join(work, id) };
  });
  for (let round = 0; round < rounds; round++) {
    const stopFile = join(work, `stop-${round}`);
    const skew = SKEWS[Math.floor(random() * SKEWS.length)]!;
    const procs: { role: string; run: Run }[] = sources.map(({ id, src }, k) => ({
      role: `backup ${id}${k === 0 ? ` (clock ${skew})` : ''}`,
      run: start(
        [
          STRESS_CHILD,
          'backup',
          JSON.stringify({
            store,
            src,
            id,
            rounds: 3,
            seed: `${id}-${round}`,
            records: join(records, `${id}-${round}.jsonl`),
          }),
        ],
        { env: k === 0 ? skewed(skew) : undefined },
      ),
    }));
    procs.push({ role: 'gc', run: start([STRESS_CHILD, 'gc', JSON.stringify({ store, stopFile })]) });
    procs.push({
      role: 'prune',
      run: start([STRESS_CHILD, 'prune', JSON.stringify({ store, stopFile, keepLast: 8 })]),
    });
    tally.maxConcurrent = Math.max(tally.maxConcurrent, procs.length);
    await sleep(300 + Math.floor(random() * 1500));
    const victims = new Set<number>();
    const count = 1 + Math.floor(random() * 3);
    while (victims.size < count) victims.add(Math.floor(random() * procs.length));
    for (const i of victims) {
      if (procs[i]!.run.child.exitCode === null && procs[i]!.run.child.kill('SIGKILL')) tally.kills++;
    }
    writeFileSync(stopFile, '');
    for (const { role, run } of procs) {
      const end = await run.done;
      if (end.signal === 'SIGKILL') continue;
      if (end.code !== 0) {
        tally.unclearErrors++;
        console.log(`  round ${round}: ${role} failed: ${end.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
        continue;
      }
      const counters = JSON.parse(end.stdout) as { runs: number };
      if (role.startsWith('backup')) tally.backups += counters.runs;
      if (role === 'gc') tally.gcRuns += counters.runs;
    }
    tally.rounds++;
  }
  await checkStore(store, records, work, tally);
}

async function checkStore(store: string, records: string, work: string, tally: Tally): Promise<void> {
  await sleep(2_500); // leftovers age past GC's margin
  const gc = await cli(['gc', store, '--json']);
  if (gc.code !== 0) throw new Error(`final gc failed: ${gc.stderr}`);
  tally.lostChunks += (JSON.parse(gc.stdout) as { missingChunks: number }).missingChunks;
  const verify = await cli(['verify', store, '--json']);
  const result = JSON.parse(verify.stdout) as VerifyResult;
  tally.snapshotsVerified += result.snapshots.length;
  tally.verifyFailures += result.snapshots.filter((s) => s.state === 'failed').length;
  tally.lostChunks += result.missingChunks;
  const ds = Datastore.open(store);
  for (const name of readdirSync(records)) {
    for (const line of readFileSync(join(records, name), 'utf8').split('\n').filter(Boolean)) {
      const record = JSON.parse(line) as SnapshotRecord;
      const ref = parseSnapshotPath(record.snapshot);
      if (!ds.listSnapshots(ref).some((s) => s.time === ref.time && s.finished)) continue; // pruned since
      const out = join(work, 'restored');
      rmSync(out, { recursive: true, force: true });
      await restoreFolder(ds, ref, out);
      tally.snapshotsRestored++;
      const got = treeHashes(out);
      const keys = new Set([...Object.keys(got), ...Object.keys(record.files)]);
      for (const key of keys) if (got[key] !== record.files[key]) tally.byteDifferences++;
    }
  }
}
