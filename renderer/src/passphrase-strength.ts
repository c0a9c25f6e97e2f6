/** A passphrase's strength as zxcvbn scores it: 0 (guessed at once) to 4 (very hard to guess). */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export const STRENGTH_WORDS: Record<StrengthScore, string> = {
  0: 'very weak',
  1: 'weak',
  2: 'fair',
  3: 'strong',
  4: 'very strong',
};

let checker: Promise<(passphrase: string) => StrengthScore> | undefined;

/**
 * zxcvbn with its common-words dictionaries, loaded on first use: they are ~1 MB, so they stay out of the
 * main bundle and load only when the key wizard opens.
 */
export function loadStrengthChecker(): Promise<(passphrase: string) => StrengthScore> {
  checker ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common')]).then(([core, common]) => {
    const zxcvbn = new core.ZxcvbnFactory({
      dictionary: { ...common.dictionary },
      graphs: common.adjacencyGraphs,
    });
    return (passphrase) => zxcvbn.check(passphrase).score;
  });
  return checker;
}

/** PBS refuses passphrases under 5 bytes (UTF-8), so the app does too. */
export function passphraseBytes(passphrase: string): number {
  return new TextEncoder().encode(passphrase).length;
}
