/**
 * Encryption keys as the app sees them (host/host-keys.ts keeps them): where each key file is, which key it
 * holds, whether it is unlocked now. Never the key bytes or a passphrase: those stay in the host process.
 */
export interface KeyRow {
  /** The key file's absolute path. */
  path: string;
  /** The full fingerprint (32 hex pairs joined by `:`); absent when the file cannot be read. */
  fingerprint?: string;
  /** Its first 8 pairs, how the app names a key. */
  short?: string;
  kdf?: 'scrypt' | 'pbkdf2' | 'none';
  /** Epoch seconds. */
  created?: number;
  hint?: string;
  /** The host holds the key in memory: backups and browsing may use it. */
  unlocked: boolean;
  /** A sealed copy is kept on this computer (the OS keychain), so the key unlocks when the app starts. */
  remembered: boolean;
  /** The default key (keys/default.json in the config folder), which `cairn … --encrypt` uses too. */
  isDefault: boolean;
  /** Why the file cannot be used (missing, damaged), when it cannot. */
  problem?: string;
}

export interface KeyRing {
  keys: KeyRow[];
  /** Where a new key goes unless another path is given. */
  defaultPath: string;
  /** Whether "remember on this computer" can be offered, and if not, why (said in the unlock prompt). */
  remember: { available: true } | { available: false; why: string };
}

/** A backup's encryption: the key, by fingerprint, which must be unlocked when the job starts. */
export interface BackupEncryption {
  keyFingerprint: string;
}
