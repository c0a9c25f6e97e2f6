import { z } from 'zod';
import type { ActionName, ActionRequest } from './actions.js';
import { keepOptionsSchema } from './keep-rules.js';
import { planInputSchema, scheduleSchema } from './plans.js';
import { remoteCredentialsSchema, remoteNameSchema, remoteSettingsSchema } from './remotes.js';

/**
 * Payload validators, run by the host on every request before a handler sees it. Strict objects: unknown keys
 * are refused too, so a renderer cannot smuggle options a handler does not expect.
 */

const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\0'), 'must not contain NUL');
const path = text(4096).min(1);
const backupType = z.enum(['ct', 'host', 'vm']);
const group = z.strictObject({ type: backupType, id: text(128).min(1) });
const snapshot = z.strictObject({ type: backupType, id: text(128).min(1), time: z.number().int().positive() });
const archivePath = text(4096);
const empty = z.strictObject({});
/** A fingerprint as the app passes it: 32 hex pairs with colons (the host normalises case). */
const fingerprint = z.string().regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){31}$/, 'must be a key fingerprint');
/** Never logged or stored; PBS needs at least 5 bytes (the host checks bytes, not characters). */
const passphrase = text(1024).min(1);
const encrypt = z.strictObject({ keyFingerprint: fingerprint }).optional();
/** The most entries of a folder one browse request returns. */
export const MAX_PAGE = 5000;

const keepOptions = keepOptionsSchema;
const conflict = z.enum(['overwrite', 'keep-both', 'skip']);
/** A search's name, made by the renderer: letters, digits and dashes. */
const searchId = z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'must be 8 to 64 letters, digits or dashes');
const epochMs = z.number().int().min(0).max(8.64e15);
const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const jobSpec = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('create-store'),
    path,
    chunkSize: z
      .number()
      .int()
      .min(64 * 1024)
      .max(4 * 1024 * 1024),
    compression: z.enum(['zstd', 'none']),
  }),
  z.strictObject({
    kind: z.literal('backup'),
    store: path,
    source: path,
    id: text(128).min(1),
    excludes: z.array(text(1024)).max(1000),
    allowOtherSource: z.boolean().optional(),
    encrypt,
  }),
  z.strictObject({
    kind: z.literal('restore'),
    store: path,
    snapshot,
    paths: z.array(archivePath).min(1).max(10_000),
    target: path,
    overwrite: z.boolean(),
    keepDamaged: z.boolean().optional(),
  }),
  z.strictObject({
    kind: z.literal('backup-image'),
    store: path,
    source: path,
    id: text(128).min(1),
    allowOtherSource: z.boolean().optional(),
    encrypt,
  }),
  z.strictObject({
    kind: z.literal('restore-image'),
    store: path,
    snapshot,
    target: path,
    overwrite: z.boolean(),
    keepDamaged: z.boolean(),
    archive: text(255).min(1).optional(),
  }),
  z.strictObject({ kind: z.literal('export-file'), store: path, snapshot, path: archivePath.min(1), target: path }),
  z.strictObject({
    kind: z.literal('restore-in-place'),
    store: path,
    snapshot,
    path: archivePath,
    conflict,
    overwriteNewer: z.boolean().optional(),
  }),
  z.strictObject({ kind: z.literal('gc'), store: path }),
  z.strictObject({ kind: z.literal('prune'), store: path, group, keep: keepOptions }),
  z.strictObject({ kind: z.literal('delete-group'), store: path, group }),
  z.strictObject({ kind: z.literal('verify'), store: path, snapshot: snapshot.optional(), group: group.optional() }),
  ...remoteJobSpecs(),
]);

/** Push, pull and a restore read from a remote: the remote by name (its credentials stay in the host). */
function remoteJobSpecs() {
  const which = { group: group.optional(), snapshot: snapshot.optional() };
  return [
    z.strictObject({ kind: z.literal('push'), store: path, remote: remoteNameSchema, ...which }),
    z.strictObject({ kind: z.literal('pull'), store: path, remote: remoteNameSchema, ...which }),
    z.strictObject({
      kind: z.literal('remote-restore'),
      remote: remoteNameSchema,
      snapshot,
      paths: z.array(archivePath).min(1).max(10_000),
      target: path,
      overwrite: z.boolean(),
      keepDamaged: z.boolean().optional(),
    }),
  ] as const;
}

export const requestValidators = {
  'app.info': empty,
  'stores.recent': empty,
  'stores.forget-recent': z.strictObject({ path }),
  'store.open': z.strictObject({ path }),
  'groups.list': z.strictObject({ store: path }),
  'group.set-notes': z.strictObject({ store: path, group, notes: text(64 * 1024) }),
  'snapshots.list': z.strictObject({ store: path, group }),
  'snapshot.set-protected': z.strictObject({ store: path, snapshot, protected: z.boolean() }),
  'snapshot.set-notes': z.strictObject({ store: path, snapshot, notes: text(64 * 1024) }),
  'snapshot.forget': z.strictObject({ store: path, snapshot }),
  'group.prune-simulate': z.strictObject({ store: path, group, keep: keepOptions }),
  'store.gc-status': z.strictObject({ store: path }),
  'store.usage': z.strictObject({ store: path }),
  'store.activity': z.strictObject({ store: path }),
  'store.dashboard': z.strictObject({ store: path }),
  'snapshot.browse': z.strictObject({
    store: path,
    snapshot,
    path: archivePath,
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(MAX_PAGE).optional(),
  }),
  'snapshot.diff': z.strictObject({ store: path, from: snapshot, to: snapshot }),
  'excludes.preview': z.strictObject({ source: path, patterns: z.array(text(1024)).max(1000) }),
  'search.start': z.strictObject({
    searchId,
    store: path,
    group,
    snapshot: snapshot.optional(),
    pattern: text(1024).min(1),
    minSize: byteCount.optional(),
    maxSize: byteCount.optional(),
    newerThan: epochMs.optional(),
    olderThan: epochMs.optional(),
  }),
  'search.cancel': z.strictObject({ searchId }),
  'path.history': z.strictObject({ store: path, group, path: archivePath.min(1) }),
  'snapshot.preview': z.strictObject({ store: path, snapshot, path: archivePath.min(1) }),
  'restore.in-place-preview': z.strictObject({
    store: path,
    snapshot,
    path: archivePath,
    conflict,
    overwriteNewer: z.boolean().optional(),
  }),
  'restore.preview': z.strictObject({
    store: path,
    snapshot,
    paths: z.array(archivePath).min(1).max(10_000),
    target: path,
  }),
  'backup.check-source': z.strictObject({
    store: path,
    source: path,
    id: text(128).min(1),
    kind: z.enum(['folder', 'image']).optional(),
  }),
  'jobs.start': jobSpec,
  'jobs.cancel': z.strictObject({ jobId: text(64).min(1) }),
  'plans.list': empty,
  'plans.get': z.strictObject({ planId: text(64).min(1) }),
  'plans.save': z.strictObject({ planId: text(64).min(1).optional(), input: planInputSchema }),
  'plans.remove': z.strictObject({ planId: text(64).min(1) }),
  'plans.run-now': z.strictObject({ planId: text(64).min(1) }),
  'plans.preview-schedule': z.strictObject({ schedule: scheduleSchema }),
  'scheduler.info': empty,
  // At most a year: longer is "until resumed".
  'plans.pause-all': z.strictObject({
    minutes: z
      .number()
      .int()
      .min(1)
      .max(366 * 24 * 60)
      .optional(),
  }),
  'plans.resume-all': empty,
  'jobs.list': empty,
  'jobs.clear-finished': empty,
  'fs.list': z.strictObject({ path: path.optional(), files: z.boolean().optional(), hidden: z.boolean().optional() }),
  'fs.make-folder': z.strictObject({ parent: path, name: text(255).min(1), files: z.boolean().optional() }),
  'dialog.pick-folder': z.strictObject({ title: text(200), defaultPath: path.optional() }),
  'dialog.pick-file': z.strictObject({ title: text(200), defaultPath: path.optional() }),
  'dialog.save-file': z.strictObject({ store: path, snapshot, path: archivePath.min(1) }),
  'dialog.save-image': z.strictObject({ store: path, snapshot, archive: text(255).min(1).optional() }),
  'remotes.list': empty,
  'remotes.add': z.strictObject({
    name: remoteNameSchema,
    settings: remoteSettingsSchema,
    credentials: remoteCredentialsSchema,
  }),
  'remotes.update': z.strictObject({
    name: remoteNameSchema,
    settings: remoteSettingsSchema,
    credentials: remoteCredentialsSchema.optional(),
  }),
  'remotes.remove': z.strictObject({ name: remoteNameSchema }),
  'remotes.check': z
    .strictObject({
      name: remoteNameSchema.optional(),
      settings: remoteSettingsSchema.optional(),
      credentials: remoteCredentialsSchema.optional(),
    })
    .refine((r) => r.name !== undefined || r.settings !== undefined, 'give a remote name or its settings')
    .refine((r) => r.credentials === undefined || r.settings !== undefined, 'credentials come with settings'),
  'remotes.snapshots': z.strictObject({ remote: remoteNameSchema, store: path.optional() }),
  'remote.browse': z.strictObject({
    remote: remoteNameSchema,
    snapshot,
    path: archivePath,
    offset: z.number().int().min(0).optional(),
    limit: z.number().int().min(1).max(MAX_PAGE).optional(),
  }),
  'keys.list': empty,
  'keys.create': z.strictObject({ path: path.optional(), passphrase, hint: text(200).min(1).optional() }),
  'keys.add': z.strictObject({ path }),
  'keys.unlock': z
    .strictObject({
      fingerprint: fingerprint.optional(),
      path: path.optional(),
      passphrase: passphrase.optional(),
      remember: z.boolean().optional(),
    })
    .refine((r) => (r.fingerprint === undefined) !== (r.path === undefined), 'give a fingerprint or a path'),
  'keys.lock': z.strictObject({ fingerprint, forget: z.boolean().optional() }),
  'keys.forget-remembered': z.strictObject({ fingerprint }),
  'keys.paper-key': z.strictObject({ fingerprint }),
} satisfies { [K in ActionName]: z.ZodType<ActionRequest<K>> };

export type ValidationResult<K extends ActionName> =
  { ok: true; value: ActionRequest<K> } | { ok: false; message: string };

/** Checks a payload against its action's validator; the message names the first bad field. */
export function validateRequest<K extends ActionName>(action: K, payload: unknown): ValidationResult<K> {
  // Own keys only: "constructor" or "__proto__" are not actions.
  if (!isActionName(action)) return { ok: false, message: `unknown action ${JSON.stringify(action)}` };
  const validator = requestValidators[action] as z.ZodType<ActionRequest<K>>;
  const parsed = validator.safeParse(payload ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'request';
  return { ok: false, message: `invalid ${action} request: ${where}: ${issue?.message ?? 'invalid'}` };
}

export function isActionName(name: string): name is ActionName {
  return Object.hasOwn(requestValidators, name);
}
