import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cairn, CLI, expectCliError, type CliResult } from '../../support/processes.js';
import { storeTempRoot, useTempDirs } from '../../support/temp.js';
import { expectSameTree, put } from '../../support/tree.js';

const SECRET = 'correct horse';
const MASTER_SECRET = 'battery staple';

function ok(r: CliResult): CliResult {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

function expectUsageError(r: CliResult, pattern: RegExp): void {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(2);
  expect(r.stderr).toMatch(pattern);
}

describe('cairn: encrypted backups from the command line', () => {
  const temp = useTempDirs();

  beforeAll(() => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  });

  /** A store, a source folder, a config folder of its own, and `run` with the passphrase in the environment. */
  async function setup() {
    const dir = temp('enc-cli', storeTempRoot());
    const config = join(dir, 'config');
    const store = join(dir, 'store');
    const src = join(dir, 'photos');
    put(src, 'a.txt', 'the first file\n');
    put(src, 'sub/b.bin', Buffer.alloc(200_000, 7));
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      cairn(args, {
        env: { CAIRN_CONFIG_DIR: config, CAIRN_PASSPHRASE: SECRET, CAIRN_NEW_PASSPHRASE: undefined, ...env },
      });
    ok(await run(['init', store]));
    return { dir, config, store, src, run };
  }

  it('backs up with --keyfile, reads back only with the key, and names the key it needs', async () => {
    const { dir, store, src, run } = await setup();
    const key = join(dir, 'key.json');
    const created = JSON.parse(ok(await run(['key', 'create', key, '--json'])).stdout) as { fingerprint: string };
    const backup = JSON.parse(ok(await run(['backup', store, src, '--keyfile', key, '--json'])).stdout) as {
      path: string;
    };
    const short = created.fingerprint.split(':').slice(0, 8).join(':');
    expectCliError(await run(['ls', store, backup.path]), new RegExp(`encrypted with the key ${short}.*--keyfile`));
    expect(ok(await run(['ls', store, backup.path, '--keyfile', key])).stdout).toContain('a.txt');
    expect(ok(await run(['cat', store, backup.path, 'a.txt', '--keyfile', key])).stdout).toBe('the first file\n');
    expectCliError(
      await run(['ls', store, backup.path, '--keyfile', key], { CAIRN_PASSPHRASE: 'wrong one' }),
      /wrong passphrase/,
    );
    // Another key is refused as such.
    const other = join(dir, 'other.json');
    ok(await run(['key', 'create', other, '--kdf', 'none']));
    expectCliError(await run(['ls', store, backup.path, '--keyfile', other]), /not with the key given/);
    // Restore and verify with the key; a plain backup into the group is refused.
    ok(await run(['restore', store, backup.path, '--to', join(dir, 'out'), '--keyfile', key]));
    expectSameTree(src, join(dir, 'out'));
    expect(ok(await run(['verify', store, '--keyfile', key])).stdout).toMatch(/OK: verified 1 snapshot/);
    expect(ok(await run(['verify', store])).stdout).toMatch(/checked without the key .*CRC only/);
    // Another key given: said so, not a plain pass.
    const otherShort = (
      JSON.parse(ok(await run(['key', 'show', other, '--json'])).stdout) as { fingerprint: string }
    ).fingerprint
      .split(':')
      .slice(0, 8)
      .join(':');
    expect(ok(await run(['verify', store, '--keyfile', other])).stdout).toMatch(
      new RegExp(
        `checked without the key ${short} \\(not the key given, ${otherShort}\\): its chunks by their CRC only`,
      ),
    );
    expectCliError(await run(['backup', store, src]), /holds encrypted backups .*--keyfile/);
    // Maintenance needs no key.
    ok(await run(['prune', store, 'host/photos', '--keep-last', '1'], { CAIRN_PASSPHRASE: undefined }));
    ok(await run(['gc', store], { CAIRN_PASSPHRASE: undefined }));
  });

  it('--encrypt uses the default key, which reading commands then find by its fingerprint', async () => {
    const { store, src, run, dir } = await setup();
    ok(await run(['key', 'create']));
    const first = JSON.parse(ok(await run(['backup', store, src, '--encrypt', '--json'])).stdout) as { path: string };
    put(src, 'c.txt', 'added');
    await new Promise((r) => setTimeout(r, 150));
    const second = JSON.parse(ok(await run(['backup', store, src, '--encrypt', '--json'])).stdout) as {
      path: string;
      base: string;
    };
    expect(second.base).toBe(first.path);
    expect(ok(await run(['diff', store, first.path, second.path])).stdout).toMatch(/\+ c\.txt/);
    // The passphrase on a file descriptor (here stdin) instead of the environment.
    const viaFd = await cairn(['ls', store, second.path, '--passphrase-fd', '0'], {
      env: { CAIRN_CONFIG_DIR: join(dir, 'config'), CAIRN_PASSPHRASE: undefined },
      input: `${SECRET}\n`,
    });
    expect(ok(viaFd).stdout).toContain('c.txt');
    const noPassphrase = await cairn(['ls', store, second.path], {
      env: { CAIRN_CONFIG_DIR: join(dir, 'config'), CAIRN_PASSPHRASE: undefined },
    });
    expectCliError(noPassphrase, /passphrase of .*default\.json is needed/);
  });

  it('refuses key options where they mean nothing, as usage errors', async () => {
    const { store, src, run } = await setup();
    expectUsageError(await run(['ls', store, 'host/x', '--encrypt']), /ls takes no --encrypt/);
    expectUsageError(
      await run(['backup', store, src, '--master-pubkey-file', 'm.pem']),
      /goes with --keyfile or --encrypt/,
    );
    expectUsageError(await run(['backup', store, src, '--encrypt', '--keyfile', 'k.json']), /leave it out/);
    expectUsageError(await run(['gc', store, '--keyfile', 'k.json']), /gc takes no --keyfile/);
    expectCliError(await run(['backup', store, src, '--keyfile', 'missing.json']), /no key file .*missing\.json/);
  });

  it('recovers the key of a backup made with a master public key', async () => {
    const { dir, store, src, run } = await setup();
    const key = join(dir, 'key.json');
    ok(await run(['key', 'create', key]));
    ok(await run(['key', 'create-master', dir], { CAIRN_PASSPHRASE: MASTER_SECRET }));
    expect(readFileSync(join(dir, 'master-public.pem'), 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
    expect(readFileSync(join(dir, 'master-private.pem'), 'utf8')).toMatch(/ENCRYPTED/);
    const backup = JSON.parse(
      ok(
        await run([
          'backup',
          store,
          src,
          '--keyfile',
          key,
          '--master-pubkey-file',
          join(dir, 'master-public.pem'),
          '--json',
        ]),
      ).stdout,
    ) as { path: string };
    const recovered = join(dir, 'recovered.json');
    const r = ok(
      await run(['key', 'recover', store, backup.path, recovered, '--master-key', join(dir, 'master-private.pem')], {
        CAIRN_PASSPHRASE: MASTER_SECRET,
        CAIRN_NEW_PASSPHRASE: 'a new passphrase',
      }),
    );
    expect(r.stdout).toContain('Recovered the key');
    const fingerprint = (path: string) =>
      (JSON.parse(readFileSync(path, 'utf8')) as { fingerprint: string }).fingerprint;
    expect(fingerprint(recovered)).toBe(fingerprint(key));
    ok(
      await run(['restore', store, backup.path, '--to', join(dir, 'out'), '--keyfile', recovered], {
        CAIRN_PASSPHRASE: 'a new passphrase',
      }),
    );
    expectSameTree(src, join(dir, 'out'));
    expectCliError(
      await run(
        ['key', 'recover', store, backup.path, join(dir, 'r2.json'), '--master-key', join(dir, 'master-private.pem')],
        {
          CAIRN_PASSPHRASE: 'not the master passphrase',
          CAIRN_NEW_PASSPHRASE: 'whatever it is',
        },
      ),
      /cannot open the master key .*wrong passphrase/,
    );
  }, 60_000);
});
