/** The first 8 pairs of a fingerprint: how the app (and `cairn key show`) names a key. */
export function shortKey(fingerprint: string | undefined): string {
  return fingerprint ? fingerprint.split(':').slice(0, 8).join(':') : 'unknown key';
}

/** A padlock drawn here: an emoji would depend on the fonts the system has (many Linux desktops have none). */
export function LockIcon() {
  return (
    <svg className="lock-icon" viewBox="0 0 12 14" width="10" height="12" aria-hidden="true" focusable="false">
      <path d="M3 6V4a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <rect x="1" y="6" width="10" height="7.5" rx="1.5" fill="currentColor" />
    </svg>
  );
}

/** A lock with the short fingerprint, on what is encrypted: the manifest says so without the key. */
export function KeyBadge({ fingerprint }: { fingerprint: string | undefined }) {
  const short = shortKey(fingerprint);
  return (
    <span className="badge key-badge" title={`Encrypted with the key ${fingerprint ?? '(not named)'}`}>
      <LockIcon /> <span className="mono">{short}</span>
      <span className="visually-hidden"> (encrypted)</span>
    </span>
  );
}

/** Just the lock, where a row has no room for the fingerprint (the snapshot table's time column). */
export function LockMark({ fingerprint }: { fingerprint: string | undefined }) {
  return (
    <span className="lock-mark" title={`Encrypted with the key ${shortKey(fingerprint)}`}>
      <LockIcon />
      <span className="visually-hidden"> encrypted</span>
    </span>
  );
}
