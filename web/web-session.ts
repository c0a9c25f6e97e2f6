import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomicSync } from '../core/fs/atomic-write.js';
import { makeDirectories } from '../core/fs/make-directories.js';
import { readRegularText } from '../core/fs/regular-file.js';

/**
 * Browser mode's session: the page's key and the port, kept in the user's config folder (mode 0600, as private
 * as the files Cairn may read anyway), so a restarted host answers the page that is still open: same address,
 * same key. `--new-key` makes a new one (an old address then stops working).
 */
export interface WebSession {
  token: string;
  port?: number;
}

const SESSION_FILE = 'browser-session.json';
const Session = z.object({
  version: z.literal(1),
  token: z.string().regex(/^[A-Za-z0-9_-]{32,128}$/),
  port: z.number().int().min(1).max(65535).optional(),
});

export function loadWebSession(dataDir: string, options: { newKey?: boolean } = {}): WebSession {
  let saved: z.infer<typeof Session> | undefined;
  try {
    saved = Session.parse(JSON.parse(readRegularText(join(dataDir, SESSION_FILE), 64 * 1024)));
  } catch {
    saved = undefined; // none yet, or not one we wrote: a new key
  }
  if (saved && !options.newKey) return { token: saved.token, port: saved.port };
  // A new key keeps the port: a page still open at the old address is told its key is refused.
  const session = { token: randomBytes(24).toString('base64url'), port: saved?.port };
  saveWebSession(dataDir, session);
  return session;
}

export function saveWebSession(dataDir: string, session: WebSession): void {
  makeDirectories(dataDir);
  writeFileAtomicSync(join(dataDir, SESSION_FILE), `${JSON.stringify({ version: 1, ...session })}\n`, { mode: 0o600 });
}
