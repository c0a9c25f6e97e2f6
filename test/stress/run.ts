// `npm run stress`: the attacks of issue-style adversarial runs, at volume and with random timing, on this machine:
// kill -9 of concurrent backups (one with its clock moved), GCs and prunes; damaged and booby-trapped stores and
// archives against every command; restores whose target is swapped under them. Prints what it did and what went
// wrong, and exits 1 if anything did. CAIRN_STRESS_ROUNDS (default 30) sets the kill rounds, CAIRN_STRESS_SEED the
// seed of the random timing.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../support/random.js';
import { hostileInputs } from './hostile-inputs.js';
import { killStorm } from './kill-storm.js';
import { restoreRaces } from './restore-races.js';
import { newTally, summarize, type Tally } from './tally.js';
import { tempDir } from '../support/temp.js';

async function main(): Promise<number> {
  const rounds = Number(process.env.CAIRN_STRESS_ROUNDS ?? 30);
  const seed = process.env.CAIRN_STRESS_SEED ?? String(Date.now());
  const random = seededRandom(seed);
  const base = tempDir('stress', process.env.CAIRN_STRESS_DIR);
  console.log(`cairn stress run: seed ${seed}, ${rounds} kill rounds, in ${base}`);
  const parts: [string, (work: string, tally: Tally) => Promise<void>][] = [
    [
      'kill -9 storm (2 backups, one with a moved clock, GC loop, prune loop)',
      (w, t) => killStorm(w, rounds, t, random),
    ],
    ['damaged and booby-trapped stores and archives, every command', (w, t) => hostileInputs(w, t)],
    [
      'restore target swapped for a symlink mid-restore',
      (w, t) => restoreRaces(w, Math.max(5, Math.round(rounds / 3)), t, random),
    ],
  ];
  let ok = true;
  const lines: string[] = [];
  for (const [i, [name, run]] of parts.entries()) {
    const tally = newTally();
    const t0 = performance.now();
    console.log(`\n== ${name}`);
    await run(join(base, `part-${i}`), tally);
    const summary = summarize(name, tally, (performance.now() - t0) / 1000);
    console.log(summary.line);
    lines.push(summary.line);
    ok &&= summary.ok;
    rmSync(join(base, `part-${i}`), { recursive: true, force: true });
  }
  rmSync(base, { recursive: true, force: true });
  console.log(
    `\n${lines.join('\n')}\n${ok ? 'stress: nothing lost, nothing written outside, no hang' : 'stress: FAILED (see above)'}`,
  );
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
