import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { askHidden, Passphrases } from '../../../core/cli/passphrase.js';
import { expectCode } from '../../support/errors.js';
import { useTempDirs } from '../../support/temp.js';

/** A terminal as readline sees one: an input with raw mode, an output that records what is shown. */
function fakeTerminal(): { input: PassThrough; output: PassThrough; shown: () => string } {
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
  const output = new PassThrough();
  let shown = '';
  output.on('data', (d: Buffer) => (shown += d.toString()));
  // readline moves the cursor around the prompt; what matters is the text.
  return { input, output, shown: () => stripVTControlCharacters(shown) };
}

describe('passphrases', () => {
  const temp = useTempDirs();

  it('asks on a terminal without echo; Ctrl-C cancels', async () => {
    const t = fakeTerminal();
    const answer = askHidden('Passphrase: ', t.input, t.output);
    t.input.write('s3cret\x7fT\r');
    expect(await answer).toBe('s3creT');
    expect(t.shown()).toBe('Passphrase: \n');
    const cancelled = askHidden('Passphrase: ', t.input, t.output);
    t.input.write('abc\x03');
    await expectCode(cancelled, 'CANCELLED');
    expect(t.shown()).not.toContain('abc');
  });

  it('a new one is typed twice on the terminal and must match', async () => {
    const t = fakeTerminal();
    const same = new Passphrases({ env: {}, terminal: t }).fresh('CAIRN_PASSPHRASE');
    // Each line only once the prompt for it is there: readline reads what is typed after it asks.
    await typeAfter(t, 'New passphrase: ', 'horse battery\r');
    await typeAfter(t, 'Repeat the new passphrase: ', 'horse battery\r');
    expect((await same).toString()).toBe('horse battery');
    expect(t.shown()).not.toContain('horse');
    const differ = new Passphrases({ env: {}, terminal: t }).fresh('CAIRN_PASSPHRASE');
    await typeAfter(t, 'New passphrase: ', 'one\r', 2);
    await typeAfter(t, 'Repeat the new passphrase: ', 'two\r', 2);
    await expectCode(differ, 'INVALID_ARGUMENT', /the two passphrases differ/);
  });

  async function typeAfter(t: ReturnType<typeof fakeTerminal>, prompt: string, keys: string, nth = 1): Promise<void> {
    while (t.shown().split(prompt).length <= nth) await new Promise((r) => setTimeout(r, 5));
    t.input.write(keys);
  }

  it('--passphrase-fd gives one line per passphrase asked and beats the environment, which beats the terminal', async () => {
    const path = join(temp('fd'), 'lines');
    writeFileSync(path, 'current one\r\nnew one\n');
    const fd = openSync(path, 'r');
    try {
      const fromFd = new Passphrases({ fd, env: { CAIRN_PASSPHRASE: 'from env' } });
      expect((await fromFd.current('/k.json')).toString()).toBe('current one');
      expect((await fromFd.fresh('CAIRN_NEW_PASSPHRASE')).toString()).toBe('new one');
      await expectCode(
        fromFd.fresh('CAIRN_NEW_PASSPHRASE'),
        'INVALID_ARGUMENT',
        new RegExp(`--passphrase-fd ${fd} has no line for the new passphrase`),
      );
    } finally {
      closeSync(fd);
    }
    const env = new Passphrases({
      env: { CAIRN_PASSPHRASE: 'old', CAIRN_NEW_PASSPHRASE: 'new' },
      terminal: fakeTerminal(),
    });
    expect((await env.current('/k.json')).toString()).toBe('old');
    expect((await env.fresh('CAIRN_NEW_PASSPHRASE')).toString()).toBe('new');
    expect((await env.fresh('CAIRN_PASSPHRASE')).toString()).toBe('old');
  });

  it('without any source it says where a passphrase can come from; a closed fd is named', async () => {
    await expectCode(
      new Passphrases({ env: {} }).current('/k.json'),
      'INVALID_ARGUMENT',
      /the passphrase of \/k\.json is needed: type it on a terminal, or give it in \$CAIRN_PASSPHRASE or with --passphrase-fd N/,
    );
    await expectCode(
      new Passphrases({ env: {} }).fresh('CAIRN_NEW_PASSPHRASE'),
      'INVALID_ARGUMENT',
      /\$CAIRN_NEW_PASSPHRASE/,
    );
    await expectCode(
      new Passphrases({ fd: 987, env: {} }).current('/k.json'),
      'INVALID_ARGUMENT',
      /cannot read --passphrase-fd 987: it is not open/,
    );
  });
});
