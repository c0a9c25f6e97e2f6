/**
 * Error codes the renderer acts on. The host maps core's CairnError codes onto these; anything unexpected is
 * INTERNAL with its message, never swallowed.
 */
export const APP_ERROR_CODES = [
  'BAD_REQUEST', // the payload failed validation
  'STORE_MISSING', // no datastore at that path
  'STORE_LOCKED', // a lock is held by another job or process
  'PROTECTED', // a protected snapshot cannot be forgotten
  'INVALID_NAME',
  'INVALID_ARGUMENT',
  'PATH_NOT_ALLOWED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CORRUPT',
  'CANCELLED',
  'SOURCE_MISMATCH', // a backup of another folder into a group that records its own
  'KEY_REQUIRED', // an encrypted snapshot needs its key (keyFingerprint names it): the app asks to unlock it
  'WRONG_KEY', // the key given is not the one the snapshot was made with
  'WRONG_PASSPHRASE', // a key file's passphrase did not decrypt it (the message carries the hint)
  'IO',
  'NOT_AVAILABLE', // this host cannot do that (a native dialog in browser mode)
  'INTERNAL',
] as const;

export type AppErrorCode = (typeof APP_ERROR_CODES)[number];

export interface AppErrorInfo {
  code: AppErrorCode;
  message: string;
  /** KEY_REQUIRED: the full fingerprint of the key needed, when the snapshot names it. */
  keyFingerprint?: string;
}

/** How every action answers: errors travel as data, because Electron's invoke keeps only an error's message. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: AppErrorInfo };
