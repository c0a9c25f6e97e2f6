import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../../contract/plans.js';
import { parseSnapshotPath } from '../../../core/backup/backup-names.js';
import { shortFingerprint } from '../../../core/crypto/fingerprint.js';
import { createKey, writeKeyFile } from '../../../core/crypto/key-file.js';
import { Datastore } from '../../../core/datastore/datastore.js';
import { snapshotKeyFingerprint } from '../../../core/datastore/snapshot-key.js';
import { cairn, type CliResult } from '../../support/processes.js';
import { put } from '../../support/tree.js';
import { storeTempRoot, tempDir } from '../../support/temp.js';

function json<T>(r: CliResult): T {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

describe('cairn plan with encryption: --encrypt, --keyfile, --no-encrypt, and runs that open the key file', () => {
  let base = '';
  let config = '';
  let store = '';
  let fingerprint = '';
  const plan = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    cairn(['plan', ...args], { env: { CAIRN_CONFIG_DIR: config, CAIRN_PASSPHRASE: undefined, ...env } });

  beforeAll(async () => {
    base = tempDir('plan-crypt-cli', storeTempRoot());
    config = join(base, 'config');
    store = join(base, 'store');
    put(join(base, 'src'), 'a.txt', 'secret a');
    mkdirSync(join(config, 'keys'), { recursive: true });
    const { config: key } = await createKey({ kdf: 'pbkdf2', passphrase: Buffer.from('hunter two') });
    writeKeyFile(join(config, 'keys', 'default.json'), key, { replace: false });
    fingerprint = key.fingerprint!;
    expect((await cairn(['init', store, '--sync', 'none'])).code).toBe(0);
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('adds a plan with --encrypt (the default key), shows it, runs it only with the passphrase, and ends it', async () => {
    const args = ['add', 'Secrets', '--source', join(base, 'src'), '--store', store, '--manual', '--encrypt'];
    const added = json<{ plan: Plan }>(await plan([...args, '--gc-every-days', '0', '--json']));
    expect(added.plan.encryption).toEqual({
      keyFingerprint: fingerprint,
      keyFile: join(config, 'keys', 'default.json'),
    });
    const shown = await plan(['show', 'Secrets']);
    expect(shown.stdout).toContain(`with the key ${shortFingerprint(fingerprint)}`);

    const locked = await plan(['run', 'Secrets']);
    expect(locked.code).toBe(1);
    expect(locked.stderr).toContain('key locked: the plan "Secrets" encrypts with the key');
    expect(locked.stderr).toContain('CAIRN_PASSPHRASE');

    const ran = await plan(['run', 'Secrets', '--json'], { CAIRN_PASSPHRASE: 'hunter two' });
    const { snapshot } = json<{ snapshot: string }>(ran);
    expect(snapshotKeyFingerprint(Datastore.open(store).readManifest(parseSnapshotPath(snapshot)))).toBe(fingerprint);

    const plain = json<{ plan: Plan }>(await plan(['edit', 'Secrets', '--no-encrypt', '--json']));
    expect(plain.plan.encryption).toBeUndefined();
  });

  it('refuses --keyfile with --encrypt, and a key file that is not there', async () => {
    const src = join(base, 'src');
    const both = await plan(['add', 'B', '--source', src, '--store', store, '--encrypt', '--keyfile', 'k.json']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give one');
    const missing = await plan(['add', 'C', '--source', src, '--store', store, '--keyfile', join(base, 'none.json')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('no key file');
  });

  it('cairn scheduler --once runs an encrypted plan with $CAIRN_PASSPHRASE in its child, and records a locked key as the failure', async () => {
    const src = join(base, 'src');
    const every = ['--every', '1m', '--gc-every-days', '0', '--full-verify-every-days', '0', '--encrypt'];
    expect((await plan(['add', 'Nightly', '--source', src, '--store', store, ...every])).code).toBe(0);
    const env = { CAIRN_CONFIG_DIR: config, CAIRN_PASSPHRASE: undefined };
    const locked = await cairn(['scheduler', '--once'], { env, timeoutMs: 60_000 });
    expect(locked.code, locked.stderr).toBe(1); // a run failed
    expect(locked.stdout).toContain('key locked');
    const failed = json<{ runs: { status: string; error?: string }[] }>(await plan(['show', 'Nightly', '--json']));
    expect(failed.runs[0]).toMatchObject({ status: 'failed' });
    expect(failed.runs[0]!.error).toContain('key locked: the plan "Nightly" encrypts with the key');

    // A plan due now (the first one waits for its retry) runs with the passphrase the scheduler was given.
    expect((await plan(['add', 'Hourly', '--source', src, '--store', store, ...every])).code).toBe(0);
    const withPassphrase = { env: { ...env, CAIRN_PASSPHRASE: 'hunter two' }, timeoutMs: 60_000 };
    expect((await cairn(['scheduler', '--once'], withPassphrase)).code).toBe(0);
    const hourly = json<{ runs: { status: string; snapshot?: string }[] }>(await plan(['show', 'Hourly', '--json']));
    expect(hourly.runs[0]).toMatchObject({ status: 'succeeded' });
    const ref = parseSnapshotPath(hourly.runs[0]!.snapshot!);
    expect(snapshotKeyFingerprint(Datastore.open(store).readManifest(ref))).toBe(fingerprint);
  });
});
