import type { PlanSource } from '../../../contract/plans.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { FieldError } from './FormFields.js';
import { PathField } from './PathField.js';

/**
 * The sources of a plan after its first: each a folder or a disk image, chosen with the same field and
 * browser as the first and removed with its own button; all are backed up together, as one snapshot.
 */
export function MoreSources({ form, set, errors }: EditorPart) {
  const sources = form.moreSources;
  const change = (i: number, path: string) =>
    set(
      'moreSources',
      sources.map((s, j) => (j === i ? { ...s, path } : s)),
    );
  const add = (kind: PlanSource['kind']) => set('moreSources', [...sources, { kind, path: '' }]);
  const remove = (i: number) =>
    set(
      'moreSources',
      sources.filter((_, j) => j !== i),
    );
  return (
    <div className="more-sources">
      {sources.map((s, i) => (
        <div key={i} className="more-source">
          <PathField
            label={`${s.kind === 'image' ? 'Disk image file' : 'Folder'} ${i + 2}`}
            value={s.path}
            onChange={(path) => change(i, path)}
            pickTitle={s.kind === 'image' ? 'Disk image to back up' : 'Folder to back up'}
            pick={s.kind === 'image' ? 'file' : 'folder'}
          />
          <button
            type="button"
            aria-label={`Remove ${s.kind === 'image' ? 'disk image' : 'folder'} ${i + 2}`}
            onClick={() => remove(i)}
          >
            Remove
          </button>
        </div>
      ))}
      <FieldError id="plan-more-sources-error" error={errors.moreSources} />
      <div className="row tight">
        <button type="button" className="link" onClick={() => add('folder')}>
          Add a folder
        </button>
        <button type="button" className="link" onClick={() => add('image')}>
          Add a disk image
        </button>
      </div>
    </div>
  );
}
