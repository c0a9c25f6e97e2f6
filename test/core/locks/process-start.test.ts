import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processIsAlive, processStartTime } from '../../../core/locks/process-start.js';

describe('processIsAlive', () => {
  it('a zombie (killed, not yet reaped by its parent) is not alive: it holds no lock', async () => {
    // `sleep 5` is the parent of a `true` that has exited: the shell's exec'd sleep never reaps it.
    const parent = spawn('sh', ['-c', 'true & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const zombie = Number(
      await new Promise<string>((resolve) => parent.stdout.once('data', (d) => resolve(String(d)))),
    );
    try {
      for (let i = 0; i < 50 && processStartTime(zombie) !== undefined && processIsAlive(zombie); i++) {
        await new Promise((r) => setTimeout(r, 20)); // until `true` has exited
      }
      expect(processStartTime(zombie)).toBeDefined(); // its pid is still taken…
      expect(processIsAlive(zombie, processStartTime(zombie))).toBe(false); // …but nobody is there
      expect(processIsAlive(parent.pid!, processStartTime(parent.pid!))).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
