import { useAppShallow } from '../state/use-app.js';

/** The top bar's way to the keys (settings › keys), hidden where the host keeps none. */
export function KeysButton() {
  const { open, openKeys, closeKeys, available } = useAppShallow((s) => ({
    open: s.keysOpen,
    openKeys: s.openKeys,
    closeKeys: s.closeKeys,
    available: s.keysError?.code !== 'NOT_AVAILABLE',
  }));
  if (!available && !open) return null;
  return (
    <button
      type="button"
      className={open ? 'nav-button current' : 'nav-button'}
      aria-pressed={open}
      onClick={() => (open ? closeKeys() : openKeys())}
      title="Encryption keys: create, unlock, lock, paper keys"
    >
      Keys
    </button>
  );
}
