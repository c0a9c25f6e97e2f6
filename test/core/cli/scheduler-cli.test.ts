import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../../contract/plans.js';
import { PlanRuntimeFile } from '../../../core/plans/plan-runtime.js';
import { RunHistory } from '../../../core/plans/run-history.js';
import { useCliDaemons } from '../../support/cli-daemon.js';
import { cairn, CLI, type CliResult } from '../../support/processes.js';
import { put } from '../../support/tree.js';
import { storeTempRoot, tempDir, useTempDirs } from '../../support/temp.js';

const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /;

describe('cairn scheduler: the headless scheduler', () => {
  const temp = useTempDirs();
  const daemon = useCliDaemons();
  let base = '';
  let store = '';

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    base = tempDir('scheduler-cli', storeTempRoot());
    store = join(base, 'store');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  /** A config folder with one plan that runs every minute, not due until makeDue() moves its last slot an hour back. */
  async function duePlan(name: string): Promise<{ dir: string; env: NodeJS.ProcessEnv; plan: Plan; makeDue(): void }> {
    const dir = temp('scheduler-config');
    const env = { CAIRN_CONFIG_DIR: dir };
    const src = temp('scheduler-source');
    put(src, 'a.txt', 'a');
    const r = await cairn(
      [
        'plan',
        'add',
        name,
        '--source',
        src,
        '--store',
        store,
        '--every',
        '1m',
        '--gc-every-days',
        '0',
        '--full-verify-every-days',
        '0',
        '--json',
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const { plan } = JSON.parse(r.stdout) as { plan: Plan };
    // A new interval plan is due at once; it has just run, as far as the schedulers know, until makeDue().
    new PlanRuntimeFile(dir).update(plan.id, (rt) => ({ ...rt, lastSlot: Date.now() }));
    const makeDue = (): void => {
      new PlanRuntimeFile(dir).update(plan.id, (rt) => ({ ...rt, lastSlot: Date.now() - 3_600_000 }));
    };
    return { dir, env, plan, makeDue };
  }

  const lines = (r: CliResult): string[] => r.stdout.trimEnd().split('\n');

  it('--once runs the due plan once and exits; the next --once finds nothing due', async () => {
    const { dir, env, plan, makeDue } = await duePlan('Once');
    makeDue();
    const first = await cairn(['scheduler', '--once'], { env, timeoutMs: 30_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(
      lines(first).every((l) => LINE.test(l)),
      first.stdout,
    ).toBe(true);
    expect(first.stdout).toMatch(/active: this scheduler runs the plans; 1 plan, next: "Once" due now\n/);
    expect(first.stdout).toMatch(/plan "Once": schedule run starts\n/);
    expect(first.stdout).toMatch(/plan "Once": run succeeded in \d+ s: host\/Once\/\S+, 1 file \(1 B\)/);
    expect(first.stdout).toMatch(/done: 1 run\n$/);
    const runs = new RunHistory(dir).runs(plan.id);
    expect(runs.map((r) => [r.trigger, r.status])).toEqual([['schedule', 'succeeded']]);
    // The slot it ran for is now, not the hour-old one: the next is a minute after this run.
    expect(new PlanRuntimeFile(dir).get(plan.id).lastSlot).toBeGreaterThan(Date.now() - 60_000);

    const second = await cairn(['scheduler', '--once', '--json'], { env, timeoutMs: 30_000 });
    expect(second.code, second.stderr).toBe(0);
    const events = lines(second).map((l) => JSON.parse(l) as { time: string; level: string; message: string });
    expect(events.at(-1)).toMatchObject({ level: 'info', message: 'no plan was due' });
    expect(new RunHistory(dir).runs(plan.id)).toHaveLength(1);
  });

  it('a second scheduler stands by, takes over within seconds when the first is killed, runs the due plan, and stops on SIGTERM', async () => {
    const { dir, env, plan, makeDue } = await duePlan('Takeover');
    const first = daemon(['scheduler'], env);
    await first.waitFor(/active: this scheduler runs the plans; 1 plan, next: "Takeover" at /);
    const second = daemon(['scheduler'], env);
    const standby = await second.waitFor(/standing by/);
    expect(standby).toMatch(
      new RegExp(
        `another scheduler runs plans \\(the scheduler of cairn scheduler started .* by pid ${first.pid}\\); standing by$`,
      ),
    );
    // --once meanwhile runs nothing: the active one runs the plans.
    const once = await cairn(['scheduler', '--once'], { env, timeoutMs: 30_000 });
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(
      new RegExp(`another scheduler runs plans \\(.* by pid ${first.pid}\\); nothing run here\\n$`),
    );

    // Due now; the first sleeps until its own next time (a minute away), so it is the second that runs it.
    makeDue();
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    await second.waitFor(/active: this scheduler runs the plans/, 12_000);
    await second.waitFor(/plan "Takeover": run succeeded/, 15_000);
    expect(Date.now() - killedAt).toBeLessThan(12_000);
    expect(new RunHistory(dir).runs(plan.id).map((r) => r.status)).toEqual(['succeeded']);
    expect(new PlanRuntimeFile(dir).get(plan.id)).toMatchObject({ failures: 0 });
    expect(second.lines.filter((l) => /standing by/.test(l))).toHaveLength(1);

    second.child.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(second.lines.slice(-2)[0]).toMatch(/SIGTERM: stopping/);
    expect(second.lines.at(-1)).toMatch(/ stopped$/);
    expect(second.stderr()).toBe('');
  });

  it('--install-unit writes the systemd user unit under $XDG_CONFIG_HOME and prints the command to enable it', async () => {
    const xdg = temp('scheduler-xdg');
    const configDir = temp('scheduler-config');
    const r = await cairn(['scheduler', '--install-unit'], {
      env: { XDG_CONFIG_HOME: xdg, CAIRN_CONFIG_DIR: configDir },
    });
    expect(r.code, r.stderr).toBe(0);
    const path = join(xdg, 'systemd', 'user', 'cairn-scheduler.service');
    expect(r.stdout).toContain(`Wrote ${path}.`);
    expect(r.stdout).toContain('  systemctl --user enable --now cairn-scheduler\n');
    const unit = readFileSync(path, 'utf8');
    expect(unit).toContain(`\nExecStart="${process.execPath}" "${CLI}" scheduler\n`);
    expect(unit).toContain(`\nEnvironment="CAIRN_CONFIG_DIR=${configDir}"\n`);
    expect(unit).toContain('\nRestart=on-failure\n');
    expect(unit).toContain('\n[Install]\nWantedBy=default.target\n');
    const refused = await cairn(['scheduler', '--install-unit', '--once']);
    expect(refused.code).toBe(2);
    expect((await cairn(['scheduler', '--every', '1m'])).code).toBe(2);
  });
});
