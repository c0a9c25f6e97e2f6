/** The first 8 pairs of a fingerprint: how the app (and `cairn key show`) names a key. */
export function shortKey(fingerprint: string | undefined): string {
  return fingerprint ? fingerprint.split(':').slice(0, 8).join(':') : 'unknown key';
}

/** A lock with the short fingerprint, on what is encrypted: readable without the key, so shown without it. */
export function KeyBadge({ fingerprint }: { fingerprint: string | undefined }) {
  const short = shortKey(fingerprint);
  return (
    <span className="badge key-badge" title={`Encrypted with the key ${fingerprint ?? '(not named)'}`}>
      <span aria-hidden="true">🔒</span> <span className="mono">{short}</span>
      <span className="visually-hidden"> encrypted with the key {short}</span>
    </span>
  );
}
