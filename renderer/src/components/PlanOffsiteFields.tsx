import { useEffect, useId, useState } from 'react';
import type { RemoteInfo } from '../../../contract/actions.js';
import { KEEP_RULES } from '../../../contract/keep-rules.js';
import type { EditorPart } from '../hooks/use-plan-editor.js';
import { useApp } from '../state/use-app.js';
import { Check } from './FormFields.js';

/** The remotes the host knows; an empty list when it cannot say (the editor still works without them). */
function useRemotes(): RemoteInfo[] | undefined {
  const client = useApp((s) => s.client);
  const [remotes, setRemotes] = useState<RemoteInfo[]>();
  useEffect(() => {
    let live = true;
    client.listRemotes({}).then(
      (r) => live && setRemotes(r),
      () => live && setRemotes([]),
    );
    return () => {
      live = false;
    };
  }, [client]);
  return remotes;
}

/** The remote's keep rules in words, as the plan has them (they are set with cairn plan edit --push-keep). */
function keepWords(form: EditorPart['form']): string {
  const rules = KEEP_RULES.filter(({ option }) => (form.offsiteRetention[option] ?? 0) > 0);
  return rules.length === 0
    ? 'The remote keeps every snapshot.'
    : `The remote keeps: ${rules.map(({ rule, option }) => `${rule} ${form.offsiteRetention[option]}`).join(', ')}.`;
}

/** An off-site copy after each backup: the remote (docs/REMOTES.md) and whether it waits off metered networks. */
export function PlanOffsiteFields({ form, set }: EditorPart) {
  const id = useId();
  const remotes = useRemotes();
  const names = remotes?.map((r) => r.name) ?? [];
  // A remote the plan names that the host does not list (removed since) stays choosable, marked.
  const missing = form.offsiteRemote && remotes && !names.includes(form.offsiteRemote) ? form.offsiteRemote : undefined;
  return (
    <fieldset className="editor-section">
      <legend>Off-site copy</legend>
      <div className="field">
        <label htmlFor={id}>After each backup, push to</label>
        <select id={id} value={form.offsiteRemote} onChange={(e) => set('offsiteRemote', e.target.value)}>
          <option value="">No off-site copy</option>
          {remotes?.map((r) => (
            <option key={r.name} value={r.name}>
              {r.name} ({r.bucket}
              {r.prefix ? `/${r.prefix}` : ''})
            </option>
          ))}
          {missing && <option value={missing}>{missing} (not set up on this computer)</option>}
        </select>
      </div>
      {remotes && remotes.length === 0 && (
        <p className="muted small">No remotes yet: add one in Remotes (the top bar), an S3 bucket.</p>
      )}
      {form.offsiteRemote && <p className="muted small">{keepWords(form)}</p>}
      <Check
        label="Not on a metered network"
        checked={form.skipPushOnMetered}
        onChange={(v) => set('skipPushOnMetered', v)}
        hint="On a phone’s hotspot the push waits; the next run sends everything it missed."
      />
    </fieldset>
  );
}
