import { useId, type ReactNode } from 'react';

/** A passphrase input with its label and what goes under it (a hint, a strength meter, an error). */
export function PassphraseField({
  label,
  value,
  onChange,
  autoComplete,
  invalid,
  children,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  /** 'new-password' in the key wizard: password managers then offer to generate and keep it. */
  autoComplete: 'off' | 'new-password';
  invalid?: boolean;
  children?: ReactNode;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="password"
        autoComplete={autoComplete}
        value={value}
        aria-invalid={invalid || undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {children}
    </div>
  );
}
