import { parseArgs } from 'node:util';
import { parseArgsMessage, UsageError } from '../core/cli/usage-error.js';

export const WEB_USAGE = `Usage: npm run web -- [options]

  --port N          the port on 127.0.0.1, 1 to 65535 (default: the last run's, else any free one)
  --allow DIR       also let the app use DIR (repeatable), beside the home folder, /media, /mnt, /run/media
                    and the temporary folder
  --allow-only DIR  let the app use DIR only (repeatable), none of those
  --data-dir DIR    where the session key and the task history are kept (default ~/.config/cairn)
  --new-key         make a new key: pages open with the old address must use the new one
  --help            this text
`;

export interface WebArgs {
  port?: number;
  /** The folders the app may use beside the default ones (`--allow`), or instead of them (`--allow-only`). */
  allow: string[];
  allowOnly: boolean;
  dataDir?: string;
  newKey: boolean;
  help: boolean;
}

/** Browser mode's command line; a wrong one is a UsageError (exit code 2), never ignored. */
export function parseWebArgs(argv: string[]): WebArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        port: { type: 'string' },
        allow: { type: 'string', multiple: true },
        'allow-only': { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        'new-key': { type: 'boolean' },
        help: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError(parseArgsMessage((err as Error).message));
  }
  const { values, positionals } = parsed;
  if (positionals.length > 0) throw new UsageError(`browser mode takes no argument ${JSON.stringify(positionals[0])}`);
  if (values.allow && values['allow-only'])
    throw new UsageError('--allow adds to the default folders and --allow-only replaces them: give one of them');
  for (const dir of [...(values.allow ?? []), ...(values['allow-only'] ?? []), values['data-dir'] ?? 'x'])
    if (dir === '') throw new UsageError('an empty folder was given (an unset variable?)');
  return {
    ...(values.port === undefined ? {} : { port: portOf(values.port) }),
    allow: values['allow-only'] ?? values.allow ?? [],
    allowOnly: values['allow-only'] !== undefined,
    ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    newKey: values['new-key'] ?? false,
    help: values.help ?? false,
  };
}

function portOf(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535))
    throw new UsageError(`--port takes a port from 1 to 65535, not ${JSON.stringify(text)}`);
  return port;
}
