import { useEffect, useId, useRef, type ReactNode } from 'react';

const FIELDS = ['input', 'select', 'textarea'].map((tag) => `${tag}:not([disabled]):not([type=hidden])`).join(', ');

/**
 * Where focus goes when a dialog opens: its first field, so typing lands there at once; in a question without
 * fields, its first answer (dialogs put the safe one first). Never the ✕, where typed text is lost.
 */
function initialFocus(dialog: HTMLDialogElement): HTMLElement | null {
  return (
    dialog.querySelector<HTMLElement>(FIELDS) ??
    dialog.querySelector<HTMLElement>('button:not([disabled]):not(.modal-close)')
  );
}

/**
 * When the dialog's content changes under the focus (a step replaced by the next, a button disabled while it
 * works), the browser drops focus to the page's body, outside the dialog: it goes back to the dialog's first field
 * or answer. A click on the dialog's text changes nothing, so it is left alone.
 */
function focusKeeper(dialog: HTMLDialogElement): MutationObserver {
  const observer = new MutationObserver(() => {
    const active = document.activeElement;
    if (dialog.open && (active === null || active === document.body)) initialFocus(dialog)?.focus();
  });
  observer.observe(dialog, { subtree: true, childList: true, attributes: true, attributeFilter: ['disabled'] });
  return observer;
}

/**
 * A modal dialog on the native <dialog> element: the browser traps focus and Escape closes it. Focus starts in
 * the dialog's first field and goes back to what had it (the button that opened the dialog) when it closes.
 */
export function Modal({
  title,
  onClose,
  children,
  wide,
  className,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  /** Another class for the dialog (a size of its own). */
  className?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    initialFocus(dialog)?.focus();
    const keepFocusInside = focusKeeper(dialog);
    return () => {
      keepFocusInside.disconnect();
      dialog.close();
      // React removes the dialog before this runs, so the browser's own return of focus does not happen.
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      className={['modal', wide ? 'wide' : '', className ?? ''].filter(Boolean).join(' ')}
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <header className="modal-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="link modal-close" onClick={onClose} aria-label="Close dialog">
          ✕
        </button>
      </header>
      {children}
    </dialog>
  );
}

/** The footer of a dialog that removes something: "Keep it" first, the removal in red. */
export function KeepOrRemoveFooter({
  remove,
  onKeep,
  onRemove,
}: {
  remove: string;
  onKeep: () => void;
  onRemove: () => void | Promise<void>;
}) {
  return (
    <footer className="modal-footer">
      <button type="button" onClick={onKeep}>
        Keep it
      </button>
      <button type="button" className="danger" onClick={() => void onRemove()}>
        {remove}
      </button>
    </footer>
  );
}
