import { shortKeyFingerprint } from '../../../contract/keys.js';

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
      <span aria-hidden="true">🔒</span>
      {shown && <span className="mono">{shown}</span>}
    </span>
  );
}
