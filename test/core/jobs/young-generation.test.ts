import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';
import { DIST } from '../../support/processes.js';

const MODULE = pathToFileURL(`${DIST}/core/jobs/young-generation.js`).href;

/**
 * The largest the young generation got while a process kept 300,000 small objects (as a scan keeps a folder's
 * entries), in MiB; with `tuned`, keepYoungGenerationSmall ran first, as `cairn backup` does.
 */
function peakYoungGenerationMiB(tuned: boolean): number {
  const script = `
    ${tuned ? `(await import(${JSON.stringify(MODULE)})).keepYoungGenerationSmall();` : ''}
    const { getHeapSpaceStatistics } = await import('node:v8');
    const kept = [];
    let peak = 0;
    for (let i = 0; i < 300000; i++) {
      kept.push({ name: 'file-' + i + '.txt', size: i, parts: [i, i + 1] });
      if (i % 1000 === 0)
        peak = Math.max(peak, getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
    }
    console.log(peak / 1048576);`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return Number(run.stdout.trim());
}

// The setting relies on a V8 flag read after start-up; if a Node release stopped honouring it, this says so.
test('keepYoungGenerationSmall keeps V8 from growing the young generation to its default maximum', () => {
  const untuned = peakYoungGenerationMiB(false);
  const tuned = peakYoungGenerationMiB(true);
  expect(untuned).toBeGreaterThanOrEqual(32);
  expect(tuned).toBeLessThan(untuned * 0.6);
});
