/**
 * The app's encryption keys as the renderer sees them: where each key file is, which key it holds and whether
 * the host has it unlocked. Never the key itself: the raw key stays in the host process (docs/ENCRYPTION.md).
 */
export interface KeyInfo {
  /** The key file (PBS's format). */
  path: string;
  /** The full fingerprint, 32 hex pairs joined by `:`. */
  fingerprint: string;
  /** The first 8 pairs: what the app shows to tell keys apart. */
  short: string;
  /** How the file protects the key: a passphrase through scrypt or PBKDF2, or none. */
  kdf: 'scrypt' | 'pbkdf2' | 'none';
  /** Epoch seconds. */
  created: number;
  hint?: string;
  /** The host holds the key in memory now: backups can encrypt with it, its snapshots open. */
  unlocked: boolean;
  /** Sealed in the OS keychain (Electron's safeStorage): unlocked again when the app starts. */
  remembered: boolean;
  /** `<config folder>/keys/default.json`, the CLI's `--encrypt`. */
  isDefault: boolean;
}

/** A key file the host knows but cannot read now (moved, damaged): listed so the user can see and remove it. */
export interface MissingKey {
  path: string;
  problem: string;
}

export interface KeyList {
  keys: KeyInfo[];
  missing: MissingKey[];
  /** Whether "remember on this computer" can be offered, and if not, why (shown beside the choice). */
  remember: { available: true } | { available: false; why: string };
  /** Where a new key goes unless another path is chosen. */
  defaultPath?: string;
}

/** The short form of a fingerprint: its first 8 pairs (core/crypto/fingerprint.ts has the same rule). */
export function shortKeyFingerprint(fingerprint: string): string {
  return fingerprint.split(':').slice(0, 8).join(':');
}

/** PBS refuses a passphrase of fewer bytes (core's MIN_PASSPHRASE_BYTES). */
export const MIN_PASSPHRASE_BYTES = 5;
