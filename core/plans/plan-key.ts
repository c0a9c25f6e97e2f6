import type { Plan, PlanEncryption } from '../../contract/plans.js';
import { CryptConfig } from '../blob/crypt-config.js';
import { shortFingerprint } from '../crypto/fingerprint.js';
import { decryptKey, readKeyFile } from '../crypto/key-file.js';
import { CairnError, KeyRequiredError } from '../errors.js';

/**
 * Where a plan run gets the key its plan encrypts with. Whoever runs the plan gives one: the app its key ring
 * (the unlocked key), the headless scheduler and `cairn plan run` the key file itself (keyFileProvider).
 */
export type PlanKeyProvider = (plan: Plan, encryption: PlanEncryption) => Promise<CryptConfig>;

/** The error of a run whose key nobody could open: it names the plan and the key, and what would open it. */
export function planKeyLocked(plan: Plan, encryption: PlanEncryption, how: string): KeyRequiredError {
  return new KeyRequiredError(
    encryption.keyFingerprint,
    `key locked: the plan "${plan.name}" encrypts with the key ${shortFingerprint(encryption.keyFingerprint)} ` +
      `(${encryption.keyFile}), and ${how}`,
  );
}

/**
 * A headless run's key: the plan's key file, opened without a passphrase when it has none, else with
 * $CAIRN_PASSPHRASE; otherwise the run fails as "key locked". The file must hold the plan's key.
 */
export function keyFileProvider(env: NodeJS.ProcessEnv = process.env): PlanKeyProvider {
  return async (plan, encryption) => {
    const config = readKeyFile(encryption.keyFile);
    const passphrase = config.kdf === null ? undefined : env.CAIRN_PASSPHRASE;
    if (config.kdf !== null && passphrase === undefined)
      throw planKeyLocked(plan, encryption, 'its key file has a passphrase: set $CAIRN_PASSPHRASE for the run');
    const secret = passphrase === undefined ? undefined : Buffer.from(passphrase, 'utf8');
    try {
      const { key, fingerprint } = await decryptKey(config, secret, encryption.keyFile);
      if (fingerprint !== encryption.keyFingerprint)
        throw new CairnError(
          'WRONG_KEY',
          `${encryption.keyFile} holds the key ${shortFingerprint(fingerprint)}, not the plan's ` +
            `${shortFingerprint(encryption.keyFingerprint)}`,
        );
      return new CryptConfig(key);
    } finally {
      secret?.fill(0);
    }
  };
}
