import { useEffect } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { useApp } from './use-app.js';

/**
 * The error of a job this dialog asked for: cleared when the dialog opens, so an error another dialog left (one
 * closed without retrying) is not shown here as if this dialog's request had failed.
 */
export function useOwnJobError(): AppErrorInfo | undefined {
  const clearJobError = useApp((s) => s.clearJobError);
  useEffect(clearJobError, [clearJobError]);
  return useApp((s) => s.jobError);
}
