import type { PowerMonitor } from 'electron';
import { beforeEach, describe, expect, it } from 'vitest';
import { watchPower } from '../../electron/power.js';
import { powerMonitor, powerSaveBlocker } from '../support/electron-mock.js';
import { FakeHost, job } from '../support/fake-host.js';

describe('power: the scheduler wakes on resume and power changes, the app is not suspended while jobs run', () => {
  let host: FakeHost;
  beforeEach(() => {
    powerMonitor.removeAllListeners();
    powerSaveBlocker.start.mockClear();
    powerSaveBlocker.stop.mockClear();
    host = new FakeHost();
    watchPower(powerMonitor as unknown as PowerMonitor, powerSaveBlocker, host);
  });

  it('wakes the scheduler after a sleep and when the power source changes', () => {
    powerMonitor.emit('resume');
    expect(host.wakeScheduler).toHaveBeenCalledTimes(1);
    powerMonitor.emit('on-ac');
    powerMonitor.emit('on-battery');
    expect(host.wakeScheduler).toHaveBeenCalledTimes(3);
    powerMonitor.emit('suspend');
    expect(host.wakeScheduler).toHaveBeenCalledTimes(3);
  });

  it('blocks app suspension once while any job runs and releases it when the last ends', () => {
    const first = job({ id: 'a' });
    host.jobs = [first];
    host.emit('job.progress', first);
    host.emit('job.progress', first);
    expect(powerSaveBlocker.start).toHaveBeenCalledTimes(1);
    expect(powerSaveBlocker.start).toHaveBeenCalledWith('prevent-app-suspension');
    const second = job({ id: 'b' });
    host.jobs = [first, second];
    host.emit('job.progress', second);
    host.jobs = [{ ...first, status: 'done' }, second];
    host.emit('job.done', { ...first, status: 'done' });
    expect(powerSaveBlocker.stop).not.toHaveBeenCalled();
    host.jobs = [
      { ...first, status: 'done' },
      { ...second, status: 'failed' },
    ];
    host.emit('job.done', { ...second, status: 'failed' });
    const id = powerSaveBlocker.start.mock.results[0]!.value as number;
    expect(powerSaveBlocker.stop).toHaveBeenCalledExactlyOnceWith(id);
    // Store and plan events change nothing.
    host.emit('plans.changed', {});
    expect(powerSaveBlocker.start).toHaveBeenCalledTimes(1);
    // A later job blocks again.
    const third = job({ id: 'c' });
    host.jobs = [third];
    host.emit('job.progress', third);
    expect(powerSaveBlocker.start).toHaveBeenCalledTimes(2);
  });
});
