import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { processIsAlive } from '../locks/process-start.js';

/**
 * Temporary files Cairn writes outside a store (a restored file before its rename, a saved download) are named
 * after the process that writes them: `.cairn-<host>-<pid>-<12 hex>.tmp`. A run that was killed leaves one
 * behind; the next run in that folder removes it once its process is gone (on this host), and never touches a
 * live process's or another computer's.
 */
const HOST_TAG =
  hostname()
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 16) || 'host';
const OWNED_TMP = /^\.cairn-([A-Za-z0-9]{1,16})-(\d+)-[0-9a-f]{12}\.tmp$/;

/**
 * The last 12 hex digits: the thread, then a count from a random start (a restore names thousands of tmp
 * files, and asking the system for random bytes each time was 2 % of a worker's time). The random start keeps
 * clear of what a killed process of the same pid left; O_EXCL still guards every create.
 */
const threadTag = (threadId % 0x10000).toString(16).padStart(4, '0');
let counter = randomBytes(4).readUInt32BE(0);

export function ownedTmpName(): string {
  counter = (counter + 1) >>> 0;
  return `.cairn-${HOST_TAG}-${process.pid}-${threadTag}${counter.toString(16).padStart(8, '0')}.tmp`;
}

/** Whether a name is an owned tmp file whose process, on this host, is gone. */
export function isDeadProcessTmp(name: string): boolean {
  const m = OWNED_TMP.exec(name);
  if (!m || m[1] !== HOST_TAG) return false;
  const pid = Number(m[2]);
  return pid !== process.pid && !processIsAlive(pid);
}

/**
 * Removes the owned tmp files of dead processes in a folder (`at` maps a name in it to the path to use);
 * returns how many. Errors are ignored: a leftover that cannot be removed does no harm.
 */
export function removeDeadProcessTmps(list: string | Buffer, at: (name: string) => string | Buffer): number {
  let names: string[];
  try {
    names = readdirSync(list);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    if (!name.startsWith('.cairn-') || !isDeadProcessTmp(name)) continue;
    try {
      unlinkSync(at(name));
      removed++;
    } catch {
      /* gone or not ours to remove */
    }
  }
  return removed;
}
