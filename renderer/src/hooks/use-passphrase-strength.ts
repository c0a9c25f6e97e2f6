import { useEffect, useState } from 'react';
import { loadStrengthChecker, type StrengthScore } from '../passphrase-strength.js';

/** The score of `passphrase`, once the checker has loaded (undefined until then, and for an empty one). */
export function usePassphraseStrength(passphrase: string): StrengthScore | undefined {
  const [check, setCheck] = useState<((p: string) => StrengthScore) | undefined>();
  useEffect(() => {
    let live = true;
    void loadStrengthChecker().then((fn) => live && setCheck(() => fn));
    return () => {
      live = false;
    };
  }, []);
  return check && passphrase !== '' ? check(passphrase) : undefined;
}
