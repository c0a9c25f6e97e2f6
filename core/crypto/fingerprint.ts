/**
 * A key's fingerprint as PBS writes it (pbs-api-types' crypto.rs): 32 bytes as lowercase hex pairs joined by `:`.
 * The short form, shown to tell keys apart, is the first 8 bytes.
 */

export function fingerprintText(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function shortFingerprint(fingerprint: string): string {
  return fingerprint.split(':').slice(0, 8).join(':');
}

/** The 32 bytes, or undefined: as PBS reads it, the `:` are dropped and 64 hex digits (any case) must remain. */
export function parseFingerprint(text: string): Buffer | undefined {
  const hex = text.replaceAll(':', '');
  return /^[0-9a-fA-F]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

/** The canonical text of a fingerprint in any form PBS reads, or undefined. */
export function normalFingerprint(text: string): string | undefined {
  const bytes = parseFingerprint(text);
  return bytes && fingerprintText(bytes);
}
