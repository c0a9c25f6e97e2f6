import { Datastore } from '../datastore/datastore.js';
import type { Logger } from '../log.js';

/** What the store itself warns about (its reserve used on a full disk, a lock taken over) goes to stderr. */
const stderrLog: Logger = {
  info: () => {},
  warn: (m) => {
    process.stderr.write(`warning: ${m}\n`);
  },
};

export function openStore(path: string): Datastore {
  return Datastore.open(path, { log: stderrLog });
}
