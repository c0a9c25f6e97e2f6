import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLease, LEASES_DIR, listLiveLeases } from '../../../core/locks/lease.js';
import { acquireExclusiveLock, exclusiveLockHolder, LOCKS_DIR } from '../../../core/locks/process-lock.js';
import { processStartTime } from '../../../core/locks/process-start.js';
import { acquireExclusiveResourceLock, acquireSharedLock } from '../../../core/locks/shared-lock.js';
import { MemoryLogger } from '../../../core/log.js';
import { expectCode } from '../../support/errors.js';
import { DIST, removeFaketimeLeftovers, skewedClock, useChildScripts } from '../../support/processes.js';
import { useTempDirs } from '../../support/temp.js';

describe('cross-process locks', () => {
  const scratch = useTempDirs();
  const start = useChildScripts();
  afterAll(removeFaketimeLeftovers);

  function holdInChild(root: string, code: string): ReturnType<typeof start> {
    return start(`
      const { acquireSharedLock, acquireExclusiveResourceLock } = await load('core/locks/shared-lock.js');
      const { acquireLease } = await load('core/locks/lease.js');
      const root = ${JSON.stringify(root)};
      const held = ${code};
      ready({ pid: process.pid });
      setInterval(() => {}, 1 << 30);
    `);
  }

  it('a lease in another process is live while it runs and is removed with a log line once it is killed', async () => {
    const root = scratch();
    const child = await holdInChild(root, `acquireLease(root, 'writer', 'writer', 'backup of host/docs')`);
    const live = listLiveLeases(root, 'writer');
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ pid: child.pid, purpose: 'backup of host/docs', kind: 'writer' });
    expect(Date.parse(live[0]!.startedAt)).toBeLessThanOrEqual(Date.now());
    await child.kill();
    const log = new MemoryLogger();
    expect(listLiveLeases(root, 'writer', log)).toEqual([]);
    expect(log.lines.some((l) => l.level === 'warn' && l.message.includes(`pid ${child.pid}`))).toBe(true);
    expect(readdirSync(join(root, LOCKS_DIR, LEASES_DIR))).toEqual([]);
  });

  it('shared holders coexist; an exclusive taker is refused naming a holder, and succeeds once they are gone', async () => {
    const root = scratch();
    const a = await holdInChild(root, `acquireSharedLock(root, 'snap.host.docs.1', 'restore of host/docs')`);
    const mine = acquireSharedLock(root, 'snap.host.docs.1', 'browse of host/docs');
    await expectCode(
      () => acquireExclusiveResourceLock(root, 'snap.host.docs.1', 'forget'),
      'LOCKED',
      new RegExp(`busy: (restore|browse) of host/docs started .* by pid (${a.pid}|${process.pid})`),
    );
    mine.release();
    await expectCode(
      () => acquireExclusiveResourceLock(root, 'snap.host.docs.1', 'forget'),
      'LOCKED',
      new RegExp(`pid ${a.pid}`),
    );
    await a.kill();
    const excl = acquireExclusiveResourceLock(root, 'snap.host.docs.1', 'forget');
    // Another resource is independent.
    acquireSharedLock(root, 'snap.host.docs.2', 'restore').release();
    excl.release();
  });

  it('an exclusive holder in another process refuses shared takers until it dies', async () => {
    const root = scratch();
    const holder = await holdInChild(root, `acquireExclusiveResourceLock(root, 'snap.host.x.5', 'forget of host/x')`);
    await expectCode(
      () => acquireSharedLock(root, 'snap.host.x.5', 'restore'),
      'LOCKED',
      new RegExp(`forget of host/x started .* by pid ${holder.pid}`),
    );
    await holder.kill();
    acquireSharedLock(root, 'snap.host.x.5', 'restore').release();
  });

  it("when several processes find a crashed holder's lock at once, exactly one takes it over", async () => {
    for (let trial = 0; trial < 3; trial++) {
      const root = scratch();
      const dir = join(root, LOCKS_DIR);
      mkdirSync(join(dir, 'gc.lock'), { recursive: true });
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      writeFileSync(
        join(dir, 'gc.holder.json'),
        JSON.stringify({ pid: dead, host: hostname(), purpose: 'crashed gc', startedAt: new Date().toISOString() }),
      );
      const startAt = Date.now() + 2000;
      const takers = await Promise.all(
        Array.from({ length: 4 }, () =>
          start<object>(`
        const { acquireExclusiveLock } = await load('core/locks/process-lock.js');
        ready({});
        while (Date.now() < ${startAt}) { /* line up with the others */ }
        try {
          const lock = acquireExclusiveLock(${JSON.stringify(root)}, 'gc', 'gc ' + process.pid);
          await new Promise((r) => setTimeout(r, 1000));
          lock.release();
          emit({ got: true });
        } catch (err) {
          emit({ got: false, code: err.code });
        }
        process.exit(0);
      `),
        ),
      );
      await Promise.all(takers.map((t) => t.exited));
      const results = takers.map((t) => t.lines[0] as { got: boolean; code?: string });
      expect(
        results.filter((r) => r.got),
        `trial ${trial}: ${JSON.stringify(results)}`,
      ).toHaveLength(1);
      expect(results.filter((r) => !r.got).map((r) => r.code)).toEqual(['LOCKED', 'LOCKED', 'LOCKED']);
    }
  });

  it('threads of one process (the app runs jobs as threads) take and release one lock in turn without errors', async () => {
    const root = scratch();
    const child = await start<{ results: { ok: number; errors: string[] }[]; left: string[] }>(`
      const { Worker } = await import('node:worker_threads');
      const { readdirSync } = await import('node:fs');
      const lockModule = pathToFileURL(${JSON.stringify(join(DIST, 'core', 'locks', 'process-lock.js'))}).href;
      const body = \`
        const { parentPort, workerData } = await import('node:worker_threads');
        const { acquireExclusiveLock } = await import(workerData.lockModule);
        let ok = 0; const errors = [];
        for (let i = 0; i < 150; i++) {
          try { acquireExclusiveLock(workerData.root, 'gate', 'thread', undefined, { waitMs: 5000 }).release(); ok++; }
          catch (err) { errors.push(String(err.message).slice(0, 120)); }
        }
        parentPort.postMessage({ ok, errors });
      \`;
      const workers = [0, 1, 2].map(() => new Worker(body, { eval: true, workerData: { root: ${JSON.stringify(root)}, lockModule } }));
      const results = await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
      ready({ results, left: readdirSync(${JSON.stringify(join(root, LOCKS_DIR))}) });
      process.exit(0);
    `);
    expect(child.message.results.map((r) => r.errors)).toEqual([[], [], []]);
    expect(child.message.results.map((r) => r.ok)).toEqual([150, 150, 150]);
    expect(child.message.left).toEqual([]);
  });

  it('a lock or lease this process failed to release (its store was away) is a leftover, not a live holder', () => {
    const root = join(scratch(), 'store');
    mkdirSync(root);
    const lock = acquireExclusiveLock(root, 'group', 'backup of host/docs');
    const lease = acquireLease(root, 'writer', 'writer', 'backup of host/docs');
    renameSync(root, `${root}.unplugged`);
    lock.release();
    lease.release();
    renameSync(`${root}.unplugged`, root);
    // Both are still on disk, recorded with this live pid; neither may keep the resource busy.
    expect(readdirSync(join(root, LOCKS_DIR))).toContain('group.lock');
    expect(listLiveLeases(root, 'writer')).toEqual([]);
    acquireExclusiveLock(root, 'group', 'forget of host/docs').release();
    // A lock this thread does hold stays its own.
    const held = acquireExclusiveLock(root, 'group', 'backup of host/docs');
    expectCode(() => acquireExclusiveLock(root, 'group', 'forget of host/docs'), 'LOCKED');
    held.release();
  });

  it('a holder whose pid now names another process (pids are handed out again) is dead; with its start time, live', async () => {
    const root = scratch();
    // A live process of someone else: its pid is what a killed holder's pid can become on a busy machine.
    const other = spawn('sleep', ['30']);
    await new Promise((r) => other.once('spawn', r));
    try {
      const pid = other.pid!;
      const started = processStartTime(pid)!;
      expect(started).toBeGreaterThan(0);
      const dir = join(root, LOCKS_DIR);
      mkdirSync(join(dir, 'group.lock'), { recursive: true });
      const record = (pstart: number) =>
        writeFileSync(
          join(dir, 'group.holder.json'),
          JSON.stringify({
            pid,
            pstart,
            host: hostname(),
            purpose: 'backup of host/docs',
            startedAt: new Date().toISOString(),
          }),
        );
      record(started);
      expectCode(() => acquireExclusiveLock(root, 'group', 'forget of host/docs'), 'LOCKED');
      record(started - 1); // the holder that wrote this started earlier: it is gone, its pid was reused
      const log = new MemoryLogger();
      acquireExclusiveLock(root, 'group', 'forget of host/docs', log).release();
      expect(log.lines.some((l) => l.message.includes(`taking over the lock of backup of host/docs`))).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('a lease of another host is live while fresh and dead once stale', () => {
    const root = scratch();
    const dir = join(root, LOCKS_DIR, LEASES_DIR);
    mkdirSync(dir, { recursive: true });
    const lease = (id: string, ageMs: number): void => {
      const target = join(dir, `writer@${id}`);
      mkdirSync(`${target}.lock`);
      writeFileSync(
        `${target}.json`,
        JSON.stringify({
          resource: 'writer',
          kind: 'writer',
          id,
          pid: 1,
          host: 'elsewhere',
          purpose: 'backup on elsewhere',
          startedAt: new Date().toISOString(),
        }),
      );
      const t = new Date(Date.now() - ageMs);
      utimesSync(`${target}.lock`, t, t);
    };
    lease('fresh', 0);
    lease('stale', 60_000);
    const live = listLiveLeases(root, 'writer');
    expect(live.map((l) => l.id)).toEqual(['fresh']);
    expect(readdirSync(dir).sort()).toEqual(['writer@fresh.json', 'writer@fresh.lock']);
  });

  it('a live holder on this computer keeps its lock and its lease however long it is stopped (SIGSTOP, Ctrl-Z)', async () => {
    const root = scratch();
    const holder = await start(`
      const { acquireExclusiveLock } = await load('core/locks/process-lock.js');
      const { acquireLease } = await load('core/locks/lease.js');
      const root = ${JSON.stringify(root)};
      const lock = acquireExclusiveLock(root, 'group.host.x', 'backup of host/x');
      const lease = acquireLease(root, 'writer', 'writer', 'backup of host/x');
      ready({});
      setInterval(() => { if (lock.signal.aborted || lease.signal.aborted) { emit({ lost: true }); process.exit(3); } }, 100);
    `);
    process.kill(holder.pid, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 12_500)); // past the 10 s a refresh may be late
      await expectCode(
        () => acquireExclusiveLock(root, 'group.host.x', 'backup of host/x'),
        'LOCKED',
        new RegExp(`by pid ${holder.pid}`),
      );
      expect(listLiveLeases(root, 'writer').map((l) => l.pid)).toEqual([holder.pid]);
    } finally {
      process.kill(holder.pid, 'SIGCONT');
    }
    await new Promise((r) => setTimeout(r, 2_500)); // its next refresh finds its own stamp
    expect(holder.lines).toEqual([]);
    await holder.kill();
    acquireExclusiveLock(root, 'group.host.x', 'backup of host/x').release();
  });

  it('a holder on another computer whose clock is an hour behind keeps its lock and lease while it refreshes them', async () => {
    const root = scratch();
    const holder = await start(
      `
      const { readFileSync, writeFileSync } = await import('node:fs');
      const { acquireExclusiveLock } = await load('core/locks/process-lock.js');
      const { acquireLease } = await load('core/locks/lease.js');
      const root = ${JSON.stringify(root)};
      const lock = acquireExclusiveLock(root, 'gc', 'garbage collection');
      const lease = acquireLease(root, 'writer', 'writer', 'backup of host/far');
      // As if this ran on another computer: only its refresh stamps tell the others it is alive.
      for (const file of [root + '/.locks/gc.holder.json', root + '/.locks/leases/writer@' + lease.info.id + '.json']) {
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), host: 'far-away' }));
      }
      ready({ id: lease.info.id });
      setInterval(() => { if (lock.signal.aborted || lease.signal.aborted) { emit({ lost: true }); process.exit(3); } }, 100);
    `,
      { env: skewedClock('-1h') },
    );
    await new Promise((r) => setTimeout(r, 4_500)); // two refreshes, stamped by its clock an hour ago before the fix
    await expectCode(
      () => acquireExclusiveLock(root, 'gc', 'garbage collection'),
      'LOCKED',
      /garbage collection started .* on far-away/,
    );
    expect(listLiveLeases(root, 'writer').map((l) => l.host)).toEqual(['far-away']);
    expect(holder.lines).toEqual([]);
    await holder.kill();
    // Once its stamps are 10 s old by the store's clock, it is gone: both are taken over.
    const old = new Date(Date.now() - 11_000);
    for (const dir of [
      join(root, LOCKS_DIR, 'gc.lock'),
      join(root, LOCKS_DIR, LEASES_DIR, `writer@${(holder.message as { id: string }).id}.lock`),
    ]) {
      utimesSync(dir, old, old);
    }
    expect(listLiveLeases(root, 'writer')).toEqual([]);
    acquireExclusiveLock(root, 'gc', 'garbage collection').release();
  });

  it('a lease or holder record of another shape names no holder: its lock is judged by its refresh alone', () => {
    const root = scratch();
    const dir = join(root, LOCKS_DIR, LEASES_DIR);
    mkdirSync(dir, { recursive: true });
    for (const [id, record] of [
      ['odd', { pid: 'seven', host: 7 }],
      ['empty', {}],
      ['text', 'not json'],
      ['cut', JSON.stringify({ pid: 1, host: 'elsewhere', purpose: 'backup' }).slice(0, 20)],
      ['kind', { pid: 1, host: 'elsewhere', purpose: 'backup', startedAt: 'x', resource: 'writer', id: 'x', kind: 7 }],
    ] as const) {
      const target = join(dir, `writer@elsewhere-1-${id}`);
      mkdirSync(`${target}.lock`);
      writeFileSync(`${target}.json`, typeof record === 'string' ? record : JSON.stringify(record));
      const old = new Date(Date.now() - 60_000);
      utimesSync(`${target}.lock`, old, old);
    }
    expect(listLiveLeases(root, 'writer')).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    // An exclusive lock's record cut short, or of another shape, names no holder either (and throws nothing).
    const locks = join(root, LOCKS_DIR);
    mkdirSync(join(locks, 'gc.lock'));
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(locks, 'gc.lock'), old, old);
    for (const text of [
      '{"pid": 12',
      '[]',
      JSON.stringify({ pid: -1, host: hostname(), purpose: 'x', startedAt: 'y' }),
    ]) {
      writeFileSync(join(locks, 'gc.holder.json'), text);
      expect(exclusiveLockHolder(root, 'gc'), text).toBeUndefined();
    }
  });

  it('a holder whose lease was taken away learns it: the signal fires and assertHeld throws', async () => {
    const root = scratch();
    const lease = acquireLease(root, 'writer', 'writer', 'backup of host/y');
    expect(() => lease.assertHeld()).not.toThrow();
    const lockDir = join(root, LOCKS_DIR, LEASES_DIR, `writer@${lease.info.id}.lock`);
    rmdirSync(lockDir);
    expect(() => lease.assertHeld()).toThrow(/lease of backup of host\/y was lost/);
    // proper-lockfile notices at its next refresh (every 2 s).
    await new Promise<void>((resolve) => {
      if (lease.signal.aborted) resolve();
      lease.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    expect(String(lease.signal.reason)).toMatch(/lost the lease/);
    lease.release();
  });
});

describe('a holder killed at any moment of taking or letting go of a lock', () => {
  const scratch = useTempDirs();
  const start = useChildScripts();

  it('never leaves a lock nobody can take: after each SIGKILL the lock (and its gate) is taken at once, shared and exclusive', async () => {
    const root = scratch();
    let kills = 0;
    for (let round = 0; round < 30; round++) {
      const child = await start(`
        const { acquireExclusiveResourceLock } = await load('core/locks/shared-lock.js');
        const root = ${JSON.stringify(root)};
        ready({});
        for (;;) acquireExclusiveResourceLock(root, 'snap.host.docs.1', 'backup of host/docs').release();
      `);
      await new Promise((r) => setTimeout(r, 5 + Math.floor(Math.random() * 40)));
      await child.kill();
      kills++;
      acquireSharedLock(root, 'snap.host.docs.1', 'restore of host/docs').release();
      acquireExclusiveResourceLock(root, 'snap.host.docs.1', 'forget of host/docs').release();
    }
    expect(kills).toBe(30);
    expect(readdirSync(join(root, LOCKS_DIR)).filter((n) => n.endsWith('.lock'))).toEqual([]);
  }, 60_000);

  it('a holder killed after its record stepped aside (letting go) frees the lock at once, for shared and exclusive takers', () => {
    const root = scratch();
    const dir = join(root, LOCKS_DIR);
    const gone = spawnSync('true').pid!;
    mkdirSync(join(dir, 'snap.host.docs.1.excl.lock'), { recursive: true });
    writeFileSync(
      join(dir, `snap.host.docs.1.excl.holder.${gone}-0a1b2c3d4e5f.json`),
      JSON.stringify({
        pid: gone,
        host: hostname(),
        purpose: 'forget of host/docs',
        startedAt: new Date().toISOString(),
      }),
    );
    expect(exclusiveLockHolder(root, 'snap.host.docs.1.excl')).toBeUndefined();
    acquireSharedLock(root, 'snap.host.docs.1', 'restore of host/docs').release();
    const log = new MemoryLogger();
    acquireExclusiveResourceLock(root, 'snap.host.docs.1', 'forget of host/docs', log).release();
    expect(log.lines.some((l) => l.message.includes(`pid ${gone}`) && l.message.includes('that process is gone'))).toBe(
      true,
    );
    expect(readdirSync(dir).filter((n) => n.startsWith('snap.host.docs.1.excl'))).toEqual([]);
  });

  it('a lock that names no holder (an older Cairn killed while letting go) is busy while fresh, taken over once stale', () => {
    const root = scratch();
    const lockDir = join(root, LOCKS_DIR, 'snap.host.docs.1.gate.lock');
    mkdirSync(lockDir, { recursive: true });
    expectCode(() => acquireExclusiveLock(root, 'snap.host.docs.1.gate', 'forget of host/docs'), 'LOCKED');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockDir, old, old);
    const log = new MemoryLogger();
    acquireExclusiveResourceLock(root, 'snap.host.docs.1', 'forget of host/docs', log).release();
    expect(log.lines.some((l) => l.message.includes('names no holder'))).toBe(true);
    expect(readdirSync(join(root, LOCKS_DIR))).toEqual([]);
  });
});
