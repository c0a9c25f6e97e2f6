import { useId, type ReactNode } from 'react';

/** A field's error under it, tied to its input by id (aria-describedby). */
export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <span id={id} className="field-error" role="alert">
      {error}
    </span>
  );
}

/** A labelled text field with an optional hint and its error. */
export function TextField({
  label,
  value,
  onChange,
  error,
  hint,
  placeholder,
  mono,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string;
  hint?: ReactNode;
  placeholder?: string;
  mono?: boolean;
}) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        value={value}
        placeholder={placeholder}
        className={mono ? 'mono-input' : undefined}
        spellCheck={false}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint ${id}-error`}
        onChange={(e) => onChange(e.target.value)}
      />
      {hint && (
        <span id={`${id}-hint`} className="muted small">
          {hint}
        </span>
      )}
      <FieldError id={`${id}-error`} error={error} />
    </div>
  );
}

/** A short number field inside a sentence: "Garbage collection every [7] days". */
export function NumberField({
  before,
  after,
  value,
  onChange,
  error,
  min = 0,
  max,
}: {
  before: string;
  after?: string;
  value: string;
  onChange(value: string): void;
  error?: string;
  min?: number;
  max?: number;
}) {
  const id = useId();
  return (
    <div className="number-field">
      <label className="inline">
        {before}
        <input
          type="number"
          min={min}
          max={max}
          step={1}
          value={value}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-error`}
          onChange={(e) => onChange(e.target.value)}
        />
        {after}
      </label>
      <FieldError id={`${id}-error`} error={error} />
    </div>
  );
}

/** A checkbox with its label and, under it, what it does. */
export function Check({
  label,
  checked,
  onChange,
  hint,
}: {
  label: string;
  checked: boolean;
  onChange(checked: boolean): void;
  hint?: string;
}) {
  return (
    <div className="check">
      <label className="inline">
        <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} />
        {label}
      </label>
      {hint && <span className="muted small">{hint}</span>}
    </div>
  );
}
