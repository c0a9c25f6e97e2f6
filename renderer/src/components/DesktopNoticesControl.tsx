import { useAppShallow } from '../state/use-app.js';

/**
 * Browser mode: turns desktop notifications about plans on (the browser asks for permission then, not before) or
 * off. The desktop app shows native notifications by itself, so nothing is shown there.
 */
export function DesktopNoticesControl() {
  const { state, set, web } = useAppShallow((s) => ({
    state: s.desktopNotices,
    set: s.setDesktopNotices,
    web: s.info?.host === 'web',
  }));
  if (!web || state === 'unsupported') return null;
  if (state === 'denied')
    return (
      <span className="muted small" title="Allow notifications for this page in the browser's site settings.">
        Desktop notifications are blocked by the browser; notices show in this window.
      </span>
    );
  return (
    <span className="small desktop-notices">
      Desktop notifications: {state === 'on' ? 'on' : 'off'}{' '}
      <button type="button" onClick={() => void set(state !== 'on')}>
        {state === 'on' ? 'Turn off' : 'Turn on'}
      </button>
    </span>
  );
}
