/** What the id is taken from, and what a backup into an existing group adds, for each kind of backup. */
const NOTES = {
  folder: { from: "the folder's name", adds: '; unchanged files are not read again.' },
  image: { from: "the file's name", adds: '.' },
};

/**
 * A backup dialog's group id, taken from the source's name until the user types one, and what backing up into it
 * does: add a snapshot to the group, or create it.
 */
export function GroupIdField({
  inputId,
  kind,
  id,
  existing,
  onChange,
}: {
  inputId: string;
  kind: 'folder' | 'image';
  id: string;
  existing: boolean | 'empty';
  onChange(id: string): void;
}) {
  const notes = NOTES[kind];
  return (
    <div className="field">
      <label htmlFor={inputId}>Backup group id</label>
      <input id={inputId} type="text" value={id} onChange={(e) => onChange(e.target.value)} spellCheck={false} />
      <span className="muted small">
        {id === ''
          ? `Taken from ${notes.from}; letters, digits, “_”, “.” and “-”.`
          : existing === 'empty'
            ? `Makes the first snapshot of host/${id}, which holds none yet.`
            : existing
              ? `Adds a snapshot to host/${id}${notes.adds}`
              : `Creates the group host/${id}.`}
      </span>
    </div>
  );
}
