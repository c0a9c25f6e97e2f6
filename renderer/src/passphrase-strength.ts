/**
 * How strong a passphrase is, by zxcvbn-ts (dictionaries of common passwords, English words, names, keyboard
 * patterns). Loaded on first use as a chunk of its own: the dictionaries are larger than the rest of the app.
 */
export interface Strength {
  /** 0 (guessed at once) … 4 (very hard to guess). */
  score: 0 | 1 | 2 | 3 | 4;
  warning?: string;
  suggestions: string[];
  /** How long an offline attack on the key file would take (scrypt is a slow hash), in words ("3 hours", "centuries"). */
  crackTime: string;
}

export type StrengthCheck = (passphrase: string, userInputs: string[]) => Strength;

let loading: Promise<StrengthCheck> | undefined;

export function loadStrengthCheck(): Promise<StrengthCheck> {
  loading ??= (async () => {
    const [{ ZxcvbnFactory }, common, en] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
    ]);
    const factory = new ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
    });
    return (passphrase, userInputs) => {
      const r = factory.check(passphrase, userInputs);
      return {
        score: r.score,
        warning: r.feedback.warning ?? undefined,
        suggestions: r.feedback.suggestions,
        crackTime: r.crackTimes.offlineSlowHashingXPerSecond.display,
      };
    };
  })();
  return loading;
}

export const STRENGTH_WORDS = ['very weak', 'weak', 'fair', 'strong', 'very strong'] as const;
