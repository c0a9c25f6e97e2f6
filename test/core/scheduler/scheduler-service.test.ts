import { describe, expect, it } from 'vitest';
import { SchedulerService, type SchedulerRole } from '../../../core/scheduler/scheduler-service.js';
import { useTempDirs } from '../../support/temp.js';

describe('SchedulerService', () => {
  const temp = useTempDirs();

  function service(configDir: string, where: string, roles: [SchedulerRole, string?][]): SchedulerService {
    return new SchedulerService({
      configDir,
      where,
      runPlan: () => Promise.reject(new Error('no plans here')),
      onRole: (role, holder) => roles.push(holder === undefined ? [role] : [role, holder]),
    });
  }

  it('a second one stands by, saying once who runs the plans; --once there runs nothing and names the holder', async () => {
    const dir = temp('service');
    const firstRoles: [SchedulerRole, string?][] = [];
    const secondRoles: [SchedulerRole, string?][] = [];
    const first = service(dir, 'the test app', firstRoles);
    const second = service(dir, 'cairn scheduler', secondRoles);
    first.start();
    expect(firstRoles).toEqual([['active']]);
    second.start();
    expect(second.currentRole).toBe('standby');
    expect(secondRoles).toHaveLength(1);
    expect(secondRoles[0]?.[1]).toMatch(/^the scheduler of the test app started .* by pid \d+$/);
    const once = await service(dir, 'cairn scheduler --once', []).runOnce();
    expect(once).toMatchObject({ ran: false, holder: expect.stringMatching(/the scheduler of the test app/) });
    await second.stop();
    await first.stop();
    expect(firstRoles).toEqual([['active'], ['stopped']]);
  });

  it('runOnce takes the lock, runs what is due and lets it go', async () => {
    const dir = temp('service');
    const roles: [SchedulerRole, string?][] = [];
    expect(await service(dir, 'cairn scheduler --once', roles).runOnce()).toEqual({ ran: true });
    expect(roles).toEqual([['active'], ['stopped']]);
    const after = service(dir, 'the test app', []);
    after.start();
    expect(after.currentRole).toBe('active');
    await after.stop();
  });
});
