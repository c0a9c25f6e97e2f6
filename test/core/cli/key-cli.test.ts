import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { paperKeyData } from '../../../core/crypto/paper-key.js';
import { readKeyFile } from '../../../core/crypto/key-file.js';
import { cairn, cairnOnTerminal, CLI, expectCliError, type CliResult } from '../../support/processes.js';
import { decodeQrText } from '../../support/qr.js';
import { useTempDirs } from '../../support/temp.js';

interface KeyInfo {
  path: string;
  kdf: 'scrypt' | 'pbkdf2' | 'none';
  fingerprint: string | null;
  shortFingerprint: string | null;
  created: number;
  modified: number;
  hint: string | null;
}

const SECRET = 'open sesame';
const NEW_SECRET = 'close sesame';

function json<T>(r: CliResult): T {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** A usage error: exit 2, a pointer to --help, nothing on stdout. */
function expectUsageError(r: CliResult, pattern: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toContain("Run 'cairn --help' for usage.");
  expect(r.stderr).toMatch(pattern);
}

/** No run shows a passphrase, whatever it printed. */
function expectNoSecrets(...runs: CliResult[]): void {
  for (const r of runs) for (const s of [SECRET, NEW_SECRET]) expect(r.stdout + r.stderr).not.toContain(s);
}

describe('cairn key: encryption key files from the command line', () => {
  const temp = useTempDirs();

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  /** A config folder of its own; `key` runs `cairn key …` with it and the passphrases given (none by default). */
  function setup(): {
    dir: string;
    key: (args: string[], env?: NodeJS.ProcessEnv, input?: string) => Promise<CliResult>;
  } {
    const dir = temp('key-config');
    return {
      dir,
      key: (args, env = {}, input) =>
        cairn(['key', ...args], {
          env: { CAIRN_CONFIG_DIR: dir, CAIRN_PASSPHRASE: undefined, CAIRN_NEW_PASSPHRASE: undefined, ...env },
          input,
        }),
    };
  }

  it('create, show and change-passphrase the default key file, in JSON and in words', async () => {
    const { dir, key } = setup();
    const created = await key(['create', '--hint', 'the cave', '--json'], { CAIRN_PASSPHRASE: SECRET });
    const info = json<KeyInfo>(created);
    const path = join(dir, 'keys', 'default.json');
    expect(info).toMatchObject({ path, kdf: 'scrypt', hint: 'the cave', modified: info.created });
    expect(info.shortFingerprint).toBe(info.fingerprint!.slice(0, 23));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(file)).toEqual(['kdf', 'created', 'modified', 'data', 'fingerprint', 'hint']);
    expect(Object.keys(file.kdf as object)).toEqual(['Scrypt']);

    const shown = await key(['show']);
    expect(shown.code).toBe(0);
    for (const line of [
      `Key file ${path}`,
      `fingerprint:  ${info.fingerprint}`,
      `short:        ${info.shortFingerprint}`,
    ])
      expect(shown.stdout).toContain(line);
    expect(shown.stdout).toMatch(/kdf: +scrypt\n +created: +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d\n/);
    expect(shown.stdout).toContain('hint:         the cave');
    expect(json<KeyInfo>(await key(['show', path, '--json']))).toEqual(info);

    const changed = await key(['change-passphrase', '--kdf', 'pbkdf2', '--json'], {
      CAIRN_PASSPHRASE: SECRET,
      CAIRN_NEW_PASSPHRASE: NEW_SECRET,
    });
    const after = json<KeyInfo>(changed);
    expect(after).toMatchObject({ fingerprint: info.fingerprint, kdf: 'pbkdf2', created: info.created, hint: null });
    expect(after.modified).toBeGreaterThanOrEqual(info.modified);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const stale = await key(['change-passphrase'], { CAIRN_PASSPHRASE: SECRET, CAIRN_NEW_PASSPHRASE: SECRET });
    expectCliError(stale, new RegExp(`cannot decrypt the key in ${path}: wrong passphrase`));
    const back = await key(['change-passphrase', '--hint', 'again'], {
      CAIRN_PASSPHRASE: NEW_SECRET,
      CAIRN_NEW_PASSPHRASE: SECRET,
    });
    expect(back.stdout).toContain(`Changed the passphrase of ${path}`);
    expect(readKeyFile(path)).toMatchObject({ hint: 'again', fingerprint: info.fingerprint });
    expectNoSecrets(created, shown, changed, stale, back);
  });

  it('a key without passphrase needs none, is said to be unprotected, and takes no hint', async () => {
    const { dir, key } = setup();
    const path = join(dir, 'bare.json');
    const r = await key(['create', path, '--kdf', 'none']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: the key has no passphrase');
    const config = readKeyFile(path);
    expect(config.kdf).toBeNull();
    expect(config.data.length).toBe(32);
    expect(json<KeyInfo>(await key(['show', path, '--json'])).kdf).toBe('none');
    expectUsageError(
      await key(['create', join(dir, 'b.json'), '--kdf', 'none', '--hint', 'x']),
      /--hint .* --kdf none/,
    );
    // Giving it a passphrase asks only for the new one.
    const p = await key(['change-passphrase', path], { CAIRN_NEW_PASSPHRASE: SECRET });
    expect(p.code, p.stderr).toBe(0);
    expect(readKeyFile(path).kdf).toHaveProperty('Scrypt');
  });

  it('--passphrase-fd reads one line per passphrase, in the order asked', async () => {
    const { dir, key } = setup();
    const path = join(dir, 'fd.json');
    const made = await key(['create', path, '--kdf', 'pbkdf2', '--passphrase-fd', '0'], {}, `${SECRET}\n`);
    expect(made.code, made.stderr).toBe(0);
    const r = await key(['change-passphrase', path, '--passphrase-fd', '0'], {}, `${SECRET}\n${NEW_SECRET}\n`);
    expect(r.code, r.stderr).toBe(0);
    const again = await key(['change-passphrase', path, '--passphrase-fd', '0'], {}, `${NEW_SECRET}\n`);
    expectCliError(again, /--passphrase-fd 0 has no line for the new passphrase/);
    expectUsageError(
      await key(['create', path, '--passphrase-fd', 'stdin']),
      /--passphrase-fd takes a file descriptor/,
    );
    expectNoSecrets(made, r, again);
  });

  it('asks on a terminal without echo, twice for a new passphrase', async () => {
    const { dir } = setup();
    const path = join(dir, 'tty.json');
    const env = { CAIRN_CONFIG_DIR: dir, CAIRN_PASSPHRASE: undefined };
    const r = await cairnOnTerminal(
      ['key', 'create', path, '--kdf', 'pbkdf2'],
      [
        { after: 'New passphrase: ', type: `${SECRET}\r` },
        { after: 'Repeat the new passphrase: ', type: `${SECRET}\r` },
      ],
      { env },
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain(`Created the key file ${path}`);
    expect(r.screen).not.toContain(SECRET);
    const wrong = await cairnOnTerminal(
      ['key', 'change-passphrase', path],
      [{ after: `Passphrase for ${path}: `, type: 'not it at all\r' }],
      { env },
    );
    expect(wrong.code, wrong.screen).toBe(1);
    expect(wrong.screen).toContain('wrong passphrase');
    expect(wrong.screen).not.toContain('not it at all');
  });

  it('refuses what would lose or misuse a key, with exit code 1 and a message naming the file', async () => {
    const { dir, key } = setup();
    const path = join(dir, 'k.json');
    const env = { CAIRN_PASSPHRASE: SECRET };
    expect((await key(['create', path, '--kdf', 'pbkdf2', '--hint', 'a door'], env)).code).toBe(0);
    const before = readFileSync(path, 'utf8');
    expectCliError(await key(['create', path], env), new RegExp(`${path} exists already: give --force`));
    expect(readFileSync(path, 'utf8')).toBe(before);
    const wrong = await key(['change-passphrase', path], {
      CAIRN_PASSPHRASE: 'sesame open',
      CAIRN_NEW_PASSPHRASE: SECRET,
    });
    expectCliError(wrong, new RegExp(`${path}: wrong passphrase.*\\(passphrase hint: a door\\)`));
    expectCliError(
      await key(['create', join(dir, 'short.json')], { CAIRN_PASSPHRASE: 'abcd' }),
      /too short: it has 4 bytes, at least 5/,
    );
    expect(existsSync(join(dir, 'short.json'))).toBe(false);
    expectCliError(await key(['create', join(dir, 'none.json')]), /the new passphrase is needed: .*\$CAIRN_PASSPHRASE/);
    expectCliError(await key(['change-passphrase', path]), new RegExp(`the passphrase of ${path} is needed`));

    const fingerprint = readKeyFile(path).fingerprint!;
    writeFileSync(path, before.replace(fingerprint, `ff${fingerprint.slice(2)}`));
    const edited = await key(['change-passphrase', path], { ...env, CAIRN_NEW_PASSPHRASE: NEW_SECRET });
    expectCliError(edited, new RegExp(`${path} records the fingerprint ff:.*the file is damaged or was edited`));
    writeFileSync(path, before.slice(0, 80));
    expectCliError(await key(['show', path]), new RegExp(`${path} \\(a key file\\) is not valid JSON`));
    expectCliError(
      await key(['show', join(dir, 'missing.json')]),
      /no key file .*missing\.json \(cairn key create makes one\)/,
    );

    const forced = await key(['create', path, '--force', '--json'], env);
    expect(json<KeyInfo>(forced).fingerprint).not.toBe(fingerprint);
    expectNoSecrets(wrong, edited, forced);
  });

  it('refuses a wrong command line with exit code 2, writing nothing', async () => {
    const { dir, key } = setup();
    const path = join(dir, 'k.json');
    expectUsageError(await key([]), /key needs a sub-command: create, show, change-passphrase, paperkey/);
    expectUsageError(await key(['frob']), /unknown key sub-command "frob"/);
    expectUsageError(await key(['create', path, '--kdf', 'argon2']), /--kdf takes scrypt, pbkdf2, none, not "argon2"/);
    expectUsageError(await key(['show', path, '--force']), /key show takes no --force/);
    expectUsageError(await key(['create', path, '--output', 'x.txt']), /key create takes no --output/);
    expectUsageError(await key(['show', path, 'other.json']), /unexpected "other.json" after the key file/);
    expect(existsSync(path)).toBe(false);
  });

  it('paperkey: text on stdout or in a file, an HTML page, mode 0600, never replacing unless asked', async () => {
    const { dir, key } = setup();
    const path = join(dir, 'k.json');
    expect((await key(['create', path, '--kdf', 'pbkdf2'], { CAIRN_PASSPHRASE: SECRET })).code).toBe(0);
    const data = paperKeyData(readKeyFile(path));

    const stdout = await key(['paperkey', path]);
    expect(stdout.code, stdout.stderr).toBe(0);
    expect(stdout.stdout).toContain(`-----BEGIN PROXMOX BACKUP KEY-----\n${data}\n-----END PROXMOX BACKUP KEY-----`);

    const txt = join(dir, 'paper.txt');
    const written = json<{ output: string; format: string }>(await key(['paperkey', path, '--output', txt, '--json']));
    expect(written).toMatchObject({ output: txt, format: 'text' });
    expect(statSync(txt).mode & 0o777).toBe(0o600);
    const page = readFileSync(txt, 'utf8');
    expect(page).toBe(stdout.stdout);
    const qr = page.slice(page.indexOf('-----END')).split('\n').slice(1).filter(Boolean);
    expect(decodeQrText(qr)).toBe(data);

    const html = join(dir, 'paper.html');
    expect((await key(['paperkey', path, '--output', html])).stdout).toContain(
      `Wrote the paper key of ${path} to ${html}`,
    );
    const htmlPage = readFileSync(html, 'utf8');
    expect(htmlPage).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(htmlPage).toContain(data.replaceAll('"', '&quot;'));

    expectCliError(await key(['paperkey', path, '--output', html]), new RegExp(`${html} exists already: give --force`));
    expect(readFileSync(html, 'utf8')).toBe(htmlPage);
    expect((await key(['paperkey', path, '--output', html, '--force'])).code).toBe(0);
    expectUsageError(await key(['paperkey', path, '--output', join(dir, 'paper.pdf')]), /an \.html or a \.txt file/);
  });
});
