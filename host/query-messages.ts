import type { AppErrorInfo } from '../contract/errors.js';
import type { RemoteAccess } from './host-remotes.js';

/** Between the service and its query worker. */
export interface QueryRequest {
  id: number;
  action: string;
  req: unknown;
  /** The raw bytes of the unlocked keys, for queries that read encrypted snapshots (inside this process only). */
  keys?: Uint8Array[];
  /** The remote a query reads and its credentials (inside this process only; never part of an answer). */
  remote?: RemoteAccess;
}

export type QueryReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: AppErrorInfo };
