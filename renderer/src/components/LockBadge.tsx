import { shortKeyFingerprint } from '../../../contract/keys.js';

/** A padlock drawn in the text's colour (an emoji would depend on the fonts installed). */
export function LockIcon() {
  return (
    <svg className="lock-icon" viewBox="0 0 16 16" width="11" height="11" aria-hidden="true" focusable="false">
      <path d="M5 7V5a3 3 0 0 1 6 0v2" fill="none" stroke="currentColor" strokeWidth="1.8" />
      <rect x="2.5" y="7" width="11" height="8" rx="1.5" fill="currentColor" />
    </svg>
  );
}

/**
 * An encrypted group or snapshot: a lock and its key's short fingerprint (the first 8 pairs; `compact` shows 4 in
 * a narrow column, the tooltip and the accessible name keep all 8). Known from the manifest, no key needed.
 */
export function LockBadge({ fingerprint, compact }: { fingerprint: string | undefined; compact?: boolean }) {
  const short = fingerprint ? shortKeyFingerprint(fingerprint) : undefined;
  const shown = short && compact ? `${short.split(':').slice(0, 4).join(':')}…` : short;
  const words = short ? `Encrypted with the key ${short}` : 'Encrypted (the key is not named)';
  return (
    <span className="lock-badge" title={words} aria-label={words} role="img">
      <LockIcon />
      {shown && <span className="mono">{shown}</span>}
    </span>
  );
}

/** A key's short fingerprint in running text, with the lock. */
export function KeyName({ short }: { short: string }) {
  return (
    <span className="key-name mono">
      <LockIcon /> {short}
    </span>
  );
}
