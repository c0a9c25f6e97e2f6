import type { AppErrorInfo } from '../contract/errors.js';

/** Between the service and its query worker. */
export interface QueryRequest {
  id: number;
  action: string;
  req: unknown;
  /** The raw bytes of the unlocked keys, for queries that read encrypted snapshots (inside this process only). */
  keys?: Uint8Array[];
}

export type QueryReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: AppErrorInfo };
