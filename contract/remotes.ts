import { z } from 'zod';
import type { SnapshotRef } from './model.js';

/**
 * Remotes as the app sees them (docs/REMOTES.md): where each is, and where its credentials are kept, never the
 * credentials themselves. The renderer sends credentials to the host when the user types them (add, edit, a check
 * of a draft); nothing the host answers, logs or records carries them.
 */

/**
 * Where a remote's credentials are: sealed with the OS keychain by the desktop app (`keychain`), in
 * remote-credentials.json, mode 0600, where the CLI finds them too (`file`), taken from the host's environment
 * (CAIRN_S3_* or AWS_*), or nowhere.
 */
export type RemoteCredentialsState = 'keychain' | 'file' | 'environment' | 'missing';

/** A remote's settings, as added and edited. */
export interface RemoteSettings {
  endpoint: string;
  region: string;
  bucket: string;
  /** '' or a path ending in '/' (the host adds a missing slash). */
  prefix: string;
  /** Path-style addressing (self-hosted services: Ceph, MinIO); virtual-host style otherwise. */
  pathStyle: boolean;
}

export interface RemoteInfo extends RemoteSettings {
  name: string;
  credentials: RemoteCredentialsState;
}

/** What the user types once; sent to the host, never sent back. */
export interface RemoteCredentialsInput {
  accessKeyId: string;
  secretAccessKey: string;
}

/** One probe of `remotes.check` (core/remote/remote-check.ts), and what it means when it is missing. */
export interface RemoteCapabilityRow {
  name: 'bucket' | 'conditional-create' | 'content-md5' | 'paged-listing' | 'delete-objects';
  ok: boolean;
  detail: string;
}

export interface RemoteCheckResult {
  ok: boolean;
  capabilities: RemoteCapabilityRow[];
  requests: number;
}

/** A snapshot on a remote, and whether the open store has it too. */
export interface RemoteSnapshotRow extends SnapshotRef {
  path: string;
  /** Its manifest is there: complete (a push that was cut off leaves an incomplete one, which a rerun finishes). */
  finished: boolean;
  kind: 'folder' | 'image' | 'other';
  /** The open store has this snapshot finished too. */
  local: boolean;
}

export interface RemoteListing {
  remote: string;
  snapshots: RemoteSnapshotRow[];
  /** Requests the listing took. */
  requests: number;
}

/** The request shapes of the remote actions, checked by the host before a handler sees them. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\0'), 'must not contain NUL');

export const remoteNameSchema = text(64).min(1);

export const remoteSettingsSchema = z.strictObject({
  endpoint: text(2048).min(1),
  region: text(64).min(1),
  bucket: text(63).min(1),
  prefix: text(1024),
  pathStyle: z.boolean(),
});

export const remoteCredentialsSchema = z.strictObject({
  accessKeyId: text(256).min(1),
  secretAccessKey: text(1024).min(1),
});
