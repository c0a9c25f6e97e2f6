import { useAppShallow } from '../state/use-app.js';

/** The top bar's way to the remotes (settings › remotes). */
export function RemotesButton() {
  const { open, openRemotes, closeRemotes } = useAppShallow((s) => ({
    open: s.remotesOpen,
    openRemotes: s.openRemotes,
    closeRemotes: s.closeRemotes,
  }));
  return (
    <button
      type="button"
      className={open ? 'nav-button current' : 'nav-button'}
      aria-pressed={open}
      onClick={() => (open ? closeRemotes() : openRemotes())}
      title="Remotes: S3 buckets for off-site copies"
    >
      Remotes
    </button>
  );
}
