import type { Notification, NotificationConstructorOptions } from 'electron';
import type { PlanNotice } from '../contract/plans.js';
import type { HostService } from '../host/host-service.js';

export interface NotificationClass {
  new (options: NotificationConstructorOptions): Notification;
  isSupported(): boolean;
}

/**
 * A plan's notices (a failure, a recovery, overdue) as the desktop's own notifications, one per notice; clicking
 * one brings up the window. Where the desktop has none, the tray's status still tells.
 */
export function showPlanNotices(
  NotificationClass: NotificationClass,
  host: Pick<HostService, 'subscribe'>,
  showWindow: () => void,
): void {
  if (!NotificationClass.isSupported()) return;
  // Held until clicked or closed: a notification that is garbage-collected loses its click handler.
  const shown = new Set<Notification>();
  host.subscribe((event, payload) => {
    if (event !== 'plan.notice') return;
    const { title, body } = payload as PlanNotice;
    const notification = new NotificationClass({ title, body });
    shown.add(notification);
    notification.on('click', () => {
      shown.delete(notification);
      showWindow();
    });
    notification.on('close', () => shown.delete(notification));
    notification.show();
  });
}
