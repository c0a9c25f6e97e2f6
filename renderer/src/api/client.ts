import {
  API_METHODS,
  type ActionRequest,
  type ActionResponse,
  type ApiMethod,
  type RawApi,
} from '../../../contract/actions.js';
import type { AppErrorCode, AppErrorInfo } from '../../../contract/errors.js';
import type { EventSubscriptions } from '../../../contract/events.js';
import type { SnapshotRef } from '../../../contract/model.js';

/** An action's typed failure, as the UI shows and branches on it. */
export class ApiError extends Error {
  readonly code: AppErrorCode;
  /** KEY_REQUIRED: the key the action needs. */
  readonly keyFingerprint?: string;

  constructor(info: AppErrorInfo) {
    super(info.message);
    this.name = 'ApiError';
    this.code = info.code;
    if (info.keyFingerprint !== undefined) this.keyFingerprint = info.keyFingerprint;
  }

  get info(): AppErrorInfo {
    return this.keyFingerprint === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, keyFingerprint: this.keyFingerprint };
  }
}

/**
 * Asked when an action answers KEY_REQUIRED: resolves true once the user unlocked the key (the action is then
 * made again), false when they did not (the action fails with KEY_REQUIRED as it answered).
 */
export type KeyPrompt = (keyFingerprint: string | undefined) => Promise<boolean>;

export function errorInfo(err: unknown): AppErrorInfo {
  if (err instanceof ApiError) return err.info;
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

type Methods = {
  [M in ApiMethod]: (req: ActionRequest<(typeof API_METHODS)[M]>) => Promise<ActionResponse<(typeof API_METHODS)[M]>>;
};

/** What a transport (the Electron preload, or HTTP in browser mode) provides. */
export interface Transport extends EventSubscriptions {
  raw: RawApi;
  /** A dropped folder's path, when the host can tell it. */
  pathOfDroppedFile(file: File): string | undefined;
  /** A URL the browser can download one file from (browser mode); undefined where a save dialog is used. */
  downloadUrl(store: string, snapshot: SnapshotRef, path: string): string | undefined;
  /** The event stream came back after a break (browser mode): events may have been missed meanwhile. */
  onReconnect?(listener: () => void): () => void;
  /** Whether the host answers (browser mode; the desktop app's host cannot go away from under its window). */
  onConnection?(listener: (state: ConnectionState) => void): () => void;
}

/** The renderer's API: every action as a method that resolves with its value or throws ApiError. */
/** `lost`: the host does not answer (stopped, restarting); `refused`: it answers but not to this page's key. */
export type ConnectionState = 'connected' | 'lost' | 'refused';

export type CairnClient = Methods &
  EventSubscriptions &
  Pick<Transport, 'pathOfDroppedFile' | 'downloadUrl'> & {
    onReconnect(listener: () => void): () => void;
    onConnection(listener: (state: ConnectionState) => void): () => void;
    /** Who asks for a key an action needs (the app's unlock prompt); none: KEY_REQUIRED is an error like others. */
    setKeyPrompt(prompt: KeyPrompt | undefined): void;
  };

export function createClient(transport: Transport): CairnClient {
  const methods = {} as Record<ApiMethod, (req: unknown) => Promise<unknown>>;
  let keyPrompt: KeyPrompt | undefined;
  for (const method of Object.keys(API_METHODS) as ApiMethod[]) {
    const call = transport.raw[method] as (
      req: unknown,
    ) => Promise<{ ok: true; value: unknown } | { ok: false; error: AppErrorInfo }>;
    methods[method] = async (req) => {
      for (;;) {
        const result = await call(req);
        if (result.ok) return result.value;
        // Every action that reads an encrypted snapshot gets the unlock prompt, and runs again once unlocked.
        const ask = result.error.code === 'KEY_REQUIRED' ? keyPrompt : undefined;
        if (!ask || !(await ask(result.error.keyFingerprint))) throw new ApiError(result.error);
      }
    };
  }
  return {
    ...(methods as unknown as Methods),
    onJobProgress: (l) => transport.onJobProgress(l),
    onJobDone: (l) => transport.onJobDone(l),
    onStoreChanged: (l) => transport.onStoreChanged(l),
    onPlansChanged: (l) => transport.onPlansChanged(l),
    onPlanNotice: (l) => transport.onPlanNotice(l),
    onSearchUpdate: (l) => transport.onSearchUpdate(l),
    pathOfDroppedFile: (f) => transport.pathOfDroppedFile(f),
    downloadUrl: (s, snap, p) => transport.downloadUrl(s, snap, p),
    // IPC does not drop events; only the web transport reconnects.
    onReconnect: (l) => transport.onReconnect?.(l) ?? (() => {}),
    onConnection: (l) => transport.onConnection?.(l) ?? (() => {}),
    setKeyPrompt: (prompt) => {
      keyPrompt = prompt;
    },
  };
}
