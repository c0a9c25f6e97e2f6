import { useEffect, useState } from 'react';
import type { GroupRow } from '../../../contract/model.js';
import { useApp } from '../state/use-app.js';

/** The group's notes: shown, and edited in place. */
export function GroupNotes({ group }: { group: GroupRow }) {
  const setGroupNotes = useApp((s) => s.setGroupNotes);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(group.notes);
  useEffect(() => setText(group.notes), [group.notes]);
  if (!editing) {
    return (
      <p className="notes">
        {group.notes ? <span>{group.notes}</span> : <span className="muted">No notes.</span>}{' '}
        <button type="button" className="link" onClick={() => setEditing(true)}>
          Edit notes
        </button>
      </p>
    );
  }
  return (
    <form
      className="notes"
      onSubmit={async (e) => {
        e.preventDefault();
        await setGroupNotes(group, text);
        setEditing(false);
      }}
    >
      <label>
        Notes for {group.path}
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={2} />
      </label>
      <button type="submit" className="primary">
        Save notes
      </button>
      <button
        type="button"
        onClick={() => {
          setText(group.notes);
          setEditing(false);
        }}
      >
        Cancel
      </button>
    </form>
  );
}
