import type { AppErrorInfo } from '../contract/errors.js';

/** Between the service and its query worker. */
export interface QueryRequest {
  id: number;
  action: string;
  req: unknown;
  /** The unlocked keys' raw bytes, for a query that reads a snapshot's contents (browse, diff) only. */
  keys?: Uint8Array[];
}

export type QueryReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: AppErrorInfo };
