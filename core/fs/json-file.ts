import type { z } from 'zod';
import { CairnError, errnoCode, ioError } from '../errors.js';
import { writeFileAtomicSync } from './atomic-write.js';
import { makeDirectories } from './make-directories.js';
import { MAX_JSON_FILE_BYTES, readRegularText } from './regular-file.js';
import { dirname } from 'node:path';

/**
 * A JSON file Cairn keeps for itself, read through its zod schema: undefined when it does not exist; a file of
 * another shape is CORRUPT naming it and saying what is wrong (never a TypeError, never silently replaced).
 */
export function readJsonFile<T>(path: string, schema: z.ZodType<T>, what: string): T | undefined {
  let text: string;
  try {
    text = readRegularText(path, MAX_JSON_FILE_BYTES);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw ioError('read', path, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // V8's message quotes the text it could not parse, newlines and all: an error is one line.
    const reason = (err as Error).message.replace(/\s+/g, ' ');
    throw new CairnError('CORRUPT', `${path} (${what}) is not valid JSON (${reason}); fix or remove it`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new CairnError('CORRUPT', `${path} is not ${what} Cairn can read${where}: ${issueText(issue?.message)}`);
  }
  return parsed.data;
}

/** Writes `value` as indented JSON via tmp + fsync + rename, creating the folder. Mode 0600: it is the user's. */
export function writeJsonFileAtomic(path: string, value: unknown): void {
  makeDirectories(dirname(path), 0o700);
  writeFileAtomicSync(path, `${JSON.stringify(value, null, 2)}\n`, { fsync: true, mode: 0o600 });
}

/** zod's words for a field that is not there ("Invalid input: expected string, received undefined") are "missing". */
function issueText(message: string | undefined): string {
  if (message === undefined) return 'wrong shape';
  return /received undefined$/.test(message) ? 'missing' : message;
}
