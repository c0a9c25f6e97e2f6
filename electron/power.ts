import type { PowerMonitor, PowerSaveBlocker } from 'electron';
import type { HostService } from '../host/host-service.js';

/** What the power wiring needs of the host: its events, its scheduler and how many jobs run. */
export type PowerHost = Pick<HostService, 'subscribe' | 'wakeScheduler'> & {
  engine: Pick<HostService['engine'], 'runningCount'>;
};

/**
 * The computer's power and Cairn: after a sleep and on a change of power source the scheduler looks at its plans
 * at once (a slot missed while asleep runs now, a plan waiting for mains power starts when plugged in); while any
 * job runs the system is asked not to suspend the app, so a backup is not frozen halfway.
 */
export function watchPower(
  powerMonitor: Pick<PowerMonitor, 'on'>,
  blocker: Pick<PowerSaveBlocker, 'start' | 'stop'>,
  host: PowerHost,
): void {
  const wake = () => host.wakeScheduler();
  powerMonitor.on('resume', wake);
  powerMonitor.on('on-ac', wake);
  powerMonitor.on('on-battery', wake);
  let blockerId: number | undefined;
  host.subscribe((event) => {
    if (event !== 'job.progress' && event !== 'job.done') return;
    const running = host.engine.runningCount > 0;
    if (running && blockerId === undefined) blockerId = blocker.start('prevent-app-suspension');
    if (!running && blockerId !== undefined) {
      blocker.stop(blockerId);
      blockerId = undefined;
    }
  });
}
