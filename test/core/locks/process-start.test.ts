import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processIsAlive, processStartTime } from '../../../core/locks/process-start.js';

describe('processIsAlive', () => {
  it('a zombie (killed, not yet reaped by its parent) is not alive: it holds no lock', async () => {
    // `sleep 5` is the parent of a `sleep 0.3` that exits after the shell became it: an exec'd sleep never reaps
    // it. (A child that ends before the exec may be reaped by the shell itself: no zombie then, as CI saw.)
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zombie = Number(
      await new Promise<string>((resolve) => parent.stdout.once('data', (d) => resolve(String(d)))),
    );
    try {
      for (let i = 0; i < 150 && processStartTime(zombie) !== undefined && processIsAlive(zombie); i++) {
        await new Promise((r) => setTimeout(r, 20)); // until the child has exited
      }
      expect(processStartTime(zombie)).toBeDefined(); // its pid is still taken…
      expect(processIsAlive(zombie, processStartTime(zombie))).toBe(false); // …but nobody is there
      expect(processIsAlive(parent.pid!, processStartTime(parent.pid!))).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
