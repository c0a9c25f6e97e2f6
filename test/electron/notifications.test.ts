import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { PlanNotice } from '../../contract/plans.js';
import { showPlanNotices, type NotificationClass } from '../../electron/notifications.js';
import { FakeNotification } from '../support/electron-mock.js';
import { FakeHost } from '../support/fake-host.js';

const Notification = FakeNotification as unknown as NotificationClass;
const notice: PlanNotice = {
  planId: 'documents',
  kind: 'failed',
  title: 'Backup "Documents" failed',
  body: 'disk full. Cairn tries again later.',
};

describe('plan notices as native notifications', () => {
  beforeEach(() => {
    FakeNotification.instances.length = 0;
    FakeNotification.isSupported.mockReturnValue(true);
  });

  it('shows one notification per notice, with its title and body; a click brings up the window', () => {
    const host = new FakeHost();
    const showWindow = vi.fn();
    showPlanNotices(Notification, host, showWindow);
    host.emit('plan.notice', notice);
    host.emit('plans.changed', {});
    host.emit('job.done', { id: 'x' } as never);
    expect(FakeNotification.instances).toHaveLength(1);
    const [shown] = FakeNotification.instances;
    expect(shown!.options).toEqual({ title: notice.title, body: notice.body });
    expect(shown!.show).toHaveBeenCalledTimes(1);
    expect(showWindow).not.toHaveBeenCalled();
    shown!.emit('click');
    expect(showWindow).toHaveBeenCalledTimes(1);

    host.emit('plan.notice', { ...notice, kind: 'recovered', title: 'Backup "Documents" works again' });
    expect(FakeNotification.instances).toHaveLength(2);
    expect(FakeNotification.instances[1]!.show).toHaveBeenCalledTimes(1);
  });

  it('shows nothing where the desktop has no notifications', () => {
    FakeNotification.isSupported.mockReturnValue(false);
    const host = new FakeHost();
    showPlanNotices(Notification, host, vi.fn());
    host.emit('plan.notice', notice);
    expect(FakeNotification.instances).toHaveLength(0);
  });
});
