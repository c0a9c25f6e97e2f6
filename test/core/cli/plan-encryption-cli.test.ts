import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../../contract/plans.js';
import { parseSnapshotPath } from '../../../core/backup/backup-names.js';
import { CryptConfig } from '../../../core/blob/crypt-config.js';
import { createKey, writeKeyFile } from '../../../core/crypto/key-file.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { snapshotKeyFingerprint } from '../../../core/datastore/snapshot-key.js';
import { cairn, CLI, type CliResult } from '../../support/processes.js';
import { storeTempRoot, tempDir } from '../../support/temp.js';

const PASSPHRASE = 'plans on the command line';

function json<T>(r: CliResult): T {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** `cairn plan add|edit --keyfile/--encrypt/--no-encrypt`, and `cairn plan run` of an encrypted plan. */
describe('cairn plan with encryption', () => {
  let base = '';
  let store = '';
  let config = '';
  let source = '';
  let keyPath = '';
  let fingerprint = '';
  const plan = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    cairn(['plan', ...args], { env: { CAIRN_CONFIG_DIR: config, CAIRN_PASSPHRASE: undefined, ...env } });

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    base = tempDir('plan-crypt-cli', storeTempRoot());
    store = join(base, 'store');
    config = join(base, 'config');
    source = join(base, 'Ledgers');
    mkdirSync(source);
    writeFileSync(join(source, 'ledger.txt'), 'the accounts\n');
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
    const made = await createKey({ kdf: 'pbkdf2', passphrase: Buffer.from(PASSPHRASE) });
    keyPath = join(base, 'plan-key.json');
    writeKeyFile(keyPath, made.config, { replace: false });
    fingerprint = new CryptConfig(made.key).fingerprint();
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('adds a plan that encrypts with --keyfile, and shows it in words', async () => {
    const quick = ['--gc-every-days', '0', '--full-verify-every-days', '0', '--manual'];
    const added = json<{ plan: Plan }>(
      await plan(['add', 'Ledgers', '--source', source, '--store', store, '--keyfile', keyPath, ...quick, '--json']),
    );
    expect(added.plan.encryption).toEqual({ keyFingerprint: fingerprint, keyFile: keyPath });
    const shown = await plan(['show', 'Ledgers']);
    expect(shown.stdout).toContain(`with the key ${fingerprint.split(':').slice(0, 8).join(':')} (${keyPath})`);
  });

  it('plan run without the passphrase fails naming the plan and the key; with $CAIRN_PASSPHRASE it backs up encrypted', async () => {
    const locked = await plan(['run', 'Ledgers']);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('the plan "Ledgers" encrypts with the key');
    expect(locked.stderr).toContain('CAIRN_PASSPHRASE');
    const ran = await plan(['run', 'Ledgers', '--json'], { CAIRN_PASSPHRASE: PASSPHRASE });
    expect(ran.code, ran.stderr).toBe(0);
    const ds = Datastore.open(store);
    const [snap] = ds.listSnapshots({ type: 'host', id: 'Ledgers' });
    expect(snapshotKeyFingerprint(ds.readManifest(parseSnapshotPath(snap!.path)))).toBe(fingerprint);
  });

  it('--no-encrypt ends it; --encrypt takes the default key, which must exist; a wrong combination is a usage error', async () => {
    const off = json<{ plan: Plan }>(await plan(['edit', 'Ledgers', '--no-encrypt', '--json']));
    expect(off.plan.encryption).toBeUndefined();
    const noDefault = await plan(['edit', 'Ledgers', '--encrypt']);
    expect(noDefault.code).toBe(1);
    expect(noDefault.stderr).toMatch(/no key file .*default\.json/);
    const both = await plan(['edit', 'Ledgers', '--encrypt', '--keyfile', keyPath]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--encrypt uses the default key');
    mkdirSync(join(config, 'keys'), { recursive: true });
    const made = await createKey({ kdf: 'none' });
    writeKeyFile(join(config, 'keys', 'default.json'), made.config, { replace: false });
    const on = json<{ plan: Plan }>(await plan(['edit', 'Ledgers', '--encrypt', '--json']));
    expect(on.plan.encryption).toEqual({
      keyFingerprint: new CryptConfig(made.key).fingerprint(),
      keyFile: join(config, 'keys', 'default.json'),
    });
    // A key file without passphrase needs nothing more: the scheduler's runs read it as it is.
    expect((await plan(['run', 'Ledgers'])).code).toBe(0);
  });

  it('cairn scheduler --once runs an encrypted plan with $CAIRN_PASSPHRASE, and records a locked key as the failure', async () => {
    const every = ['--every', '1m', '--gc-every-days', '0', '--full-verify-every-days', '0', '--keyfile', keyPath];
    expect((await plan(['add', 'Nightly', '--source', source, '--store', store, ...every])).code).toBe(0);
    const env = { CAIRN_CONFIG_DIR: config, CAIRN_PASSPHRASE: undefined };
    const locked = await cairn(['scheduler', '--once'], { env, timeoutMs: 60_000 });
    expect(locked.code, locked.stderr).toBe(1); // a run failed
    expect(locked.stdout).toContain('encrypts with the key');
    const failed = json<{ runs: { status: string; error?: string }[] }>(await plan(['show', 'Nightly', '--json']));
    expect(failed.runs[0]).toMatchObject({ status: 'failed' });
    expect(failed.runs[0]!.error).toContain('the plan "Nightly" encrypts with the key');

    expect((await plan(['add', 'Weekly', '--source', source, '--store', store, ...every])).code).toBe(0);
    const ran = await cairn(['scheduler', '--once'], {
      env: { ...env, CAIRN_PASSPHRASE: PASSPHRASE },
      timeoutMs: 60_000,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const weekly = json<{ runs: { status: string }[] }>(await plan(['show', 'Weekly', '--json']));
    expect(weekly.runs[0]).toMatchObject({ status: 'succeeded' });
  });
});
