import type { PlanNotice } from '../../contract/plans.js';

/**
 * Browser mode's desktop notifications (Web Notifications). The browser asks for permission only after the user
 * turns them on in the plans view, and the choice is kept in this page's storage; until then, or when the browser
 * refuses, notices show inside the window. The desktop app shows native ones from its main process instead.
 */
export type DesktopNotices = 'unsupported' | 'off' | 'on' | 'denied';

const KEY = 'cairn.desktop-notifications';

function supported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function desktopNoticesState(): DesktopNotices {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'denied';
  return Notification.permission === 'granted' && localStorage.getItem(KEY) === 'on' ? 'on' : 'off';
}

/** Asks the browser (it shows its own question the first time) and remembers a yes. */
export async function turnOnDesktopNotices(): Promise<DesktopNotices> {
  if (!supported()) return 'unsupported';
  const permission = await Notification.requestPermission();
  if (permission === 'granted') localStorage.setItem(KEY, 'on');
  return desktopNoticesState();
}

export function turnOffDesktopNotices(): DesktopNotices {
  if (supported()) localStorage.removeItem(KEY);
  return desktopNoticesState();
}

/** Shows the notice on the desktop if the user turned that on; false when it is to be shown in the window. */
export function showDesktopNotice(notice: PlanNotice, onClick: () => void): boolean {
  if (desktopNoticesState() !== 'on') return false;
  try {
    const n = new Notification(notice.title, { body: notice.body, tag: `cairn-plan-${notice.planId}` });
    n.onclick = () => {
      window.focus();
      onClick();
    };
    return true;
  } catch {
    return false; // some browsers allow notifications only from a service worker
  }
}
