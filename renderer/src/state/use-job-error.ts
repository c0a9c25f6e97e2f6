import { useLayoutEffect } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { useApp } from './use-app.js';

/**
 * The error of a job this dialog asked for: cleared when the dialog opens, so an error another dialog left (one
 * closed without retrying) is not shown here as if this dialog's request had failed.
 */
export function useOwnJobError(): AppErrorInfo | undefined {
  const clearJobError = useApp((s) => s.clearJobError);
  useLayoutEffect(clearJobError, [clearJobError]); // before the first paint: the stale error never shows
  return useApp((s) => s.jobError);
}
