import { useEffect, useState } from 'react';
import { loadStrengthCheck, STRENGTH_WORDS, type StrengthCheck } from '../passphrase-strength.js';

/**
 * How hard the passphrase is to guess, as the user types it: a meter, the time an attack on the key file would
 * take, and zxcvbn's warning and suggestions. The library loads on first show (a chunk of its own).
 */
export function StrengthMeter({ passphrase, userInputs }: { passphrase: string; userInputs: string[] }) {
  const [check, setCheck] = useState<StrengthCheck>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    loadStrengthCheck().then(
      (c) => live && setCheck(() => c),
      () => live && setFailed(true),
    );
    return () => {
      live = false;
    };
  }, []);
  if (failed) return <p className="muted small">The strength check could not be loaded.</p>;
  if (!check) return <p className="muted small">Loading the strength check…</p>;
  if (passphrase === '') return <p className="muted small">Use several words, or a long sentence only you know.</p>;
  const strength = check(passphrase, userInputs);
  return (
    <div className={`strength strength-${strength.score}`} aria-live="polite">
      <div className="row">
        <meter
          min={0}
          max={4}
          low={2}
          high={3}
          optimum={4}
          value={strength.score}
          aria-label="Passphrase strength"
          aria-valuetext={STRENGTH_WORDS[strength.score]}
        />
        <strong>{STRENGTH_WORDS[strength.score]}</strong>
        <span className="muted small">guessed in {strength.crackTime}</span>
      </div>
      {strength.warning && <p className="small warn">{strength.warning}</p>}
      {strength.suggestions.length > 0 && <p className="muted small">{strength.suggestions.join(' ')}</p>}
    </div>
  );
}
