import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, sleep } from './processes.js';
import type { Tally } from './tally.js';

/**
 * Restores of 3,000 files, each round with one of the target's folders swapped for a symlink to a folder outside
 * at a random moment (from this process, while the restore runs in its own): nothing may arrive outside.
 */
export async function restoreRaces(work: string, rounds: number, tally: Tally, random: () => number): Promise<void> {
  const store = join(work, 'store');
  const src = join(work, 'src');
  for (let i = 0; i < 3000; i++) {
    const dir = join(src, `d${i % 3}`);
    if (i < 3) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(30));
  }
  await cli(['init', store, '--sync', 'none']);
  await cli(['backup', store, src, '--id', 'race']);
  for (let round = 0; round < rounds; round++) {
    const target = join(work, `target-${round}`);
    const outside = join(work, `outside-${round}`);
    mkdirSync(outside, { recursive: true });
    const victim = join(target, `d${round % 3}`);
    const restore = cli(['restore', store, 'host/race', '--to', target], { timeoutMs: 60_000 });
    const waitFor = Math.floor(random() * 900);
    const started = Date.now();
    let swapped = false;
    while (!swapped && Date.now() - started < 20_000) {
      try {
        if (Date.now() - started >= waitFor && readdirSync(victim).length > 0) {
          renameSync(victim, `${victim}.moved`);
          symlinkSync(outside, victim);
          swapped = true;
        }
      } catch {
        /* not there yet */
      }
      if (!swapped) await sleep(1);
    }
    const r = await restore;
    if (swapped) tally.swaps++;
    if (r.timedOut) tally.hangs++;
    tally.badInputs++;
    if (readdirSync(outside).length > 0) tally.writesOutside++;
    tally.rounds++;
    rmSync(target, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
}
