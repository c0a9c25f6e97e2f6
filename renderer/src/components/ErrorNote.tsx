import type { AppErrorInfo } from '../../../contract/errors.js';

const HINTS: Partial<Record<AppErrorInfo['code'], string>> = {
  // Never "create one there": the path of an unplugged drive is an empty mount point on the system disk.
  STORE_MISSING: 'Check the path: is the drive plugged in, or was the folder moved?',
  STORE_LOCKED: 'Another job or program is using this. Wait for it to finish, then try again.',
  PATH_NOT_ALLOWED: 'Choose a folder inside your home folder or on removable media.',
  INVALID_NAME: 'Use letters, digits, "_", "." and "-".',
};

/** An error shown where it happened, with its code and what to do about it. */
export function ErrorNote({ error, onDismiss }: { error: AppErrorInfo | undefined; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div className="error-note" role="alert" data-code={error.code}>
      <strong>{error.message}</strong>
      {HINTS[error.code] && <span className="hint"> {HINTS[error.code]}</span>}
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss} aria-label="Dismiss error">
          ✕
        </button>
      )}
    </div>
  );
}
