import { useId } from 'react';
import { FieldError } from './FormFields.js';

/** A passphrase input: never autocompleted or spell-checked (a spell checker may send words off the machine). */
export function PassphraseField({
  label,
  value,
  onChange,
  error,
  autoComplete = 'off',
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string;
  autoComplete?: 'off' | 'new-password' | 'current-password';
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="password"
        value={value}
        autoComplete={autoComplete}
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-error`}
        onChange={(e) => onChange(e.target.value)}
      />
      <FieldError id={`${id}-error`} error={error} />
    </div>
  );
}

/** "Remember on this computer", or why it cannot be offered here (browser mode, no keyring). */
export function RememberChoice({
  offer,
  checked,
  onChange,
}: {
  offer: { available: true } | { available: false; why: string } | undefined;
  checked: boolean;
  onChange(value: boolean): void;
}) {
  if (!offer) return null;
  if (!offer.available)
    return (
      <p className="muted small">
        Not remembered on this computer ({offer.why}): the key stays unlocked until Cairn stops.
      </p>
    );
  return (
    <label className="inline">
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} /> Remember on this computer
      (in the system keychain), so it is unlocked when Cairn starts
    </label>
  );
}
