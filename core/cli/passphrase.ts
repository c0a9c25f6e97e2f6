import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { CairnError, errnoCode } from '../errors.js';

/**
 * Where the key commands get passphrases, first that applies: `--passphrase-fd N` (one line per passphrase asked,
 * in the order asked), the environment (CAIRN_PASSPHRASE; CAIRN_NEW_PASSPHRASE for a new one when changing it),
 * else the terminal, without echo (a new passphrase twice). A passphrase is never printed, logged or put in a message.
 */
export interface PassphraseSources {
  fd?: number;
  env: NodeJS.ProcessEnv;
  /** Where to ask; undefined when stdin is not a terminal. */
  terminal?: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream };
}

export class Passphrases {
  private fdLines: string[] | undefined;

  constructor(private readonly sources: PassphraseSources) {}

  /** The passphrase of an existing key file. */
  async current(path: string): Promise<Buffer> {
    return this.get('CAIRN_PASSPHRASE', `the passphrase of ${path}`, async (t) =>
      askHidden(`Passphrase for ${path}: `, t.input, t.output),
    );
  }

  /** A new passphrase, typed twice on a terminal; `envName` is where a script puts it. */
  async fresh(envName: 'CAIRN_PASSPHRASE' | 'CAIRN_NEW_PASSPHRASE'): Promise<Buffer> {
    return this.get(envName, 'the new passphrase', async (t) => {
      const first = await askHidden('New passphrase: ', t.input, t.output);
      const again = await askHidden('Repeat the new passphrase: ', t.input, t.output);
      if (first !== again) throw new CairnError('INVALID_ARGUMENT', 'the two passphrases differ: nothing was changed');
      return first;
    });
  }

  private async get(
    envName: string,
    what: string,
    ask: (terminal: NonNullable<PassphraseSources['terminal']>) => Promise<string>,
  ): Promise<Buffer> {
    const { fd, env, terminal } = this.sources;
    if (fd !== undefined) return Buffer.from(this.nextFdLine(fd, what));
    const fromEnv = env[envName];
    if (fromEnv !== undefined) return Buffer.from(fromEnv);
    if (terminal) return Buffer.from(await ask(terminal));
    throw new CairnError(
      'INVALID_ARGUMENT',
      `${what} is needed: type it on a terminal, or give it in $${envName} or with --passphrase-fd N`,
    );
  }

  /** The file descriptor is read to its end once; each passphrase asked takes the next line. */
  private nextFdLine(fd: number, what: string): string {
    this.fdLines ??= readFd(fd).split('\n');
    const line = this.fdLines.shift();
    if (line === undefined || (line === '' && this.fdLines.length === 0))
      throw new CairnError('INVALID_ARGUMENT', `--passphrase-fd ${fd} has no line for ${what}`);
    return line.endsWith('\r') ? line.slice(0, -1) : line;
  }
}

function readFd(fd: number): string {
  try {
    return readFileSync(fd, 'utf8');
  } catch (err) {
    const why = errnoCode(err) === 'EBADF' ? 'it is not open' : (err as Error).message;
    throw new CairnError('INVALID_ARGUMENT', `cannot read --passphrase-fd ${fd}: ${why}`, { cause: err });
  }
}

/**
 * Asks on a terminal without echo: readline edits the line as usual, but what it writes after the prompt goes
 * nowhere. Ctrl-C and Ctrl-D cancel.
 */
export function askHidden(
  prompt: string,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
): Promise<string> {
  let muted = false;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input, output: sink, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    rl.on('SIGINT', () => rl.close());
    rl.on('close', () => {
      output.write('\n');
      if (!answered) reject(new CairnError('CANCELLED', 'cancelled: no passphrase was typed'));
    });
    rl.question(prompt, (answer) => {
      answered = true;
      resolve(answer);
      rl.close();
    });
    muted = true;
  });
}
