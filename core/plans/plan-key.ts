import type { Plan } from '../../contract/plans.js';
import { CryptConfig } from '../blob/crypt-config.js';
import { normalFingerprint, shortFingerprint } from '../crypto/fingerprint.js';
import { decryptKey, readKeyFile } from '../crypto/key-file.js';
import { CairnError, KeyRequiredError } from '../errors.js';

/**
 * Where a run gets the key its plan encrypts with (undefined for a plain plan). The app's host hands its run
 * the keys it has unlocked; a headless run (`cairn scheduler`, `cairn plan run`) reads the plan's key file.
 */
export type PlanKeySource = (plan: Plan) => Promise<CryptConfig | undefined>;

/** "the plan "Photos" encrypts with the key ab:cd:… (FILE)": how a missing key is named. */
function planKeyWords(plan: Plan): string {
  const e = plan.encryption!;
  return `the plan "${plan.name}" encrypts with the key ${shortFingerprint(normalFingerprint(e.keyFingerprint) ?? e.keyFingerprint)} (${e.keyFile})`;
}

/**
 * The key from the plan's key file: as it is when it has no passphrase, else with $CAIRN_PASSPHRASE. Without
 * either it is KEY_REQUIRED naming the plan and the key, so the run fails with words that say what to do.
 */
export async function planKeyFromFile(
  plan: Plan,
  env: NodeJS.ProcessEnv = process.env,
): Promise<CryptConfig | undefined> {
  if (!plan.encryption) return undefined;
  const { keyFile } = plan.encryption;
  const config = readKeyFile(keyFile);
  const passphrase = env.CAIRN_PASSPHRASE;
  if (config.kdf !== null && passphrase === undefined)
    throw new KeyRequiredError(
      normalFingerprint(plan.encryption.keyFingerprint),
      `${planKeyWords(plan)}, which is locked: unlock it in the app (Keys), or give cairn scheduler and cairn plan run its passphrase in CAIRN_PASSPHRASE`,
    );
  const secret = passphrase === undefined ? undefined : Buffer.from(passphrase, 'utf8');
  try {
    return checked(plan, new CryptConfig((await decryptKey(config, secret, keyFile)).key));
  } finally {
    secret?.fill(0);
  }
}

/** The plan's key among `keys` (those the app unlocked), else from its key file as a headless run reads it. */
export function planKeyFrom(keys: readonly CryptConfig[], fallback: PlanKeySource = planKeyFromFile): PlanKeySource {
  return async (plan) => {
    if (!plan.encryption) return undefined;
    const wanted = normalFingerprint(plan.encryption.keyFingerprint);
    return keys.find((k) => k.fingerprint() === wanted) ?? fallback(plan);
  };
}

/** The key a source gave must be the plan's: a key file replaced by another key must not take over its backups. */
export function checked(plan: Plan, crypt: CryptConfig): CryptConfig {
  const wanted = normalFingerprint(plan.encryption!.keyFingerprint);
  if (crypt.fingerprint() !== wanted)
    throw new CairnError(
      'WRONG_KEY',
      `${planKeyWords(plan)}, but that file now holds the key ${shortFingerprint(crypt.fingerprint())}: edit the plan to use it, or put the plan's key file back`,
    );
  return crypt;
}
