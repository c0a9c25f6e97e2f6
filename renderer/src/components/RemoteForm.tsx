import { useId, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { RemoteCheckResult, RemoteInfo } from '../../../contract/remotes.js';
import { errorInfo } from '../api/client.js';
import { CREDENTIALS_WORDS } from '../remote-words.js';
import type { RemoteDraft } from '../state/slices/remotes-slice.js';
import { useAppShallow } from '../state/use-app.js';
import { ErrorNote } from './ErrorNote.js';
import { Check, TextField } from './FormFields.js';
import { Modal } from './Modal.js';
import { RemoteCheckList } from './RemoteCheckList.js';

interface FormState {
  name: string;
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  pathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
}

function startOf(remote: RemoteInfo | undefined): FormState {
  return {
    name: remote?.name ?? '',
    endpoint: remote?.endpoint ?? '',
    region: remote?.region ?? 'us-east-1',
    bucket: remote?.bucket ?? '',
    prefix: remote?.prefix ?? '',
    pathStyle: remote?.pathStyle ?? true,
    accessKeyId: '',
    secretAccessKey: '',
  };
}

/** The draft the host gets: credentials only when both are typed (an edit keeps the stored ones otherwise). */
function draftOf(f: FormState): RemoteDraft {
  const typed = f.accessKeyId.trim() !== '' && f.secretAccessKey !== '';
  return {
    name: f.name.trim(),
    settings: {
      endpoint: f.endpoint.trim(),
      region: f.region.trim(),
      bucket: f.bucket.trim(),
      prefix: f.prefix.trim(),
      pathStyle: f.pathStyle,
    },
    ...(typed ? { credentials: { accessKeyId: f.accessKeyId.trim(), secretAccessKey: f.secretAccessKey } } : {}),
  };
}

/** A field whose value is not shown (the secret), never filled in by the browser. */
function SecretField(props: { label: string; value: string; onChange(v: string): void; placeholder?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        type="password"
        autoComplete="new-password"
        spellCheck={false}
        value={props.value}
        placeholder={props.placeholder}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </div>
  );
}

/**
 * Adds a remote, or edits one (`remote`): where it is, and its credentials, typed once and sent to the host,
 * which keeps them; "Check" asks the service what it supports before anything is saved.
 */
export function RemoteForm({ remote, onClose }: { remote?: RemoteInfo; onClose(): void }) {
  const { saveRemote, checkRemote } = useAppShallow((s) => ({ saveRemote: s.saveRemote, checkRemote: s.checkRemote }));
  const [form, setForm] = useState<FormState>(() => startOf(remote));
  const [error, setError] = useState<AppErrorInfo>();
  const [check, setCheck] = useState<RemoteCheckResult>();
  const [checkError, setCheckError] = useState(false);
  const [busy, setBusy] = useState<'check' | 'save'>();
  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => {
    setForm((f) => ({ ...f, [key]: value }));
    setCheck(undefined);
    setCheckError(false);
  };
  const draft = draftOf(form);
  const complete =
    draft.name !== '' && draft.settings.endpoint !== '' && draft.settings.bucket !== '' && draft.settings.region !== '';
  const canSave = complete && (remote !== undefined || draft.credentials !== undefined);
  // Saving what was not checked checks it first; a remote that failed its check is saved only when asked again.
  const mayNotWork = (check !== undefined && !check.ok) || checkError;
  const runCheck = async (): Promise<boolean> => {
    setBusy('check');
    try {
      const result = await checkRemote(draft);
      setCheck(result);
      return result.ok;
    } catch (err) {
      // A refused field (a bucket name S3 does not allow) is the form's to fix: saving it anyway would be refused too.
      if (errorInfo(err).code !== 'INVALID_ARGUMENT') setCheckError(true);
      throw err;
    }
  };
  const run = async (what: 'check' | 'save') => {
    if (busy) return;
    setError(undefined);
    setCheckError(false);
    try {
      if (what === 'check') return void (await runCheck());
      if (!check && !mayNotWork && !(await runCheck())) return;
      setBusy('save');
      await saveRemote(draft, remote !== undefined);
      onClose();
    } catch (err) {
      setError(errorInfo(err));
    } finally {
      setBusy(undefined);
    }
  };
  const saveWord = remote ? 'Save' : 'Add remote';
  return (
    <Modal title={remote ? `Edit the remote ${remote.name}` : 'Add a remote'} onClose={onClose} className="remote-form">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (canSave) void run('save');
        }}
      >
        <RemoteFields form={form} set={set} editing={remote} />
        {check && <RemoteCheckList result={check} />}
        <ErrorNote error={error} />
        {mayNotWork && (
          <p className="small warn">
            Not saved yet. “{remote ? 'Save' : 'Add'} anyway” saves it as it is; copies to it fail until it works.
          </p>
        )}
        <footer className="modal-footer">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            disabled={!complete || (!remote && !draft.credentials)}
            aria-busy={busy === 'check'}
            onClick={() => void run('check')}
          >
            {busy === 'check' ? 'Checking…' : 'Check'}
          </button>
          {/* Not disabled while busy (a click then does nothing): a disabled button drops the keyboard's focus. */}
          <button type="submit" className="primary" disabled={!canSave} aria-busy={busy === 'save'}>
            {busy === 'save' ? 'Saving…' : mayNotWork ? `${remote ? 'Save' : 'Add'} anyway` : saveWord}
          </button>
        </footer>
      </form>
    </Modal>
  );
}

function RemoteFields({
  form,
  set,
  editing,
}: {
  form: FormState;
  set: <K extends keyof FormState>(key: K, value: FormState[K]) => void;
  editing: RemoteInfo | undefined;
}) {
  return (
    <div className="remote-fields">
      {editing ? (
        <p>
          <strong>{editing.name}</strong> <span className="muted small">(plans push to a remote by its name)</span>
        </p>
      ) : (
        <TextField
          label="Name"
          value={form.name}
          onChange={(v) => set('name', v)}
          placeholder="offsite"
          hint="Letters, digits, . _ -; plans and the CLI use it"
        />
      )}
      <TextField
        label="Endpoint"
        value={form.endpoint}
        onChange={(v) => set('endpoint', v)}
        placeholder="https://s3.eu-central-1.amazonaws.com"
        mono
      />
      <div className="remote-pair">
        <TextField label="Region" value={form.region} onChange={(v) => set('region', v)} />
        <TextField label="Bucket" value={form.bucket} onChange={(v) => set('bucket', v)} mono />
      </div>
      <TextField
        label="Prefix"
        value={form.prefix}
        onChange={(v) => set('prefix', v)}
        placeholder="laptop/"
        hint="A folder in the bucket for this computer's copies; empty: the whole bucket"
        mono
      />
      <Check
        label="Path-style addressing"
        checked={form.pathStyle}
        onChange={(v) => set('pathStyle', v)}
        hint="Self-hosted services (Ceph, MinIO) need it; AWS, Backblaze and Wasabi work either way"
      />
      {editing && (
        <p className="muted small">
          Now: {CREDENTIALS_WORDS[editing.credentials]}. Type new ones only to replace them.
        </p>
      )}
      <div className="remote-pair">
        <TextField label="Access key ID" value={form.accessKeyId} onChange={(v) => set('accessKeyId', v)} mono />
        <SecretField
          label="Secret access key"
          value={form.secretAccessKey}
          onChange={(v) => set('secretAccessKey', v)}
          placeholder={editing ? 'unchanged' : undefined}
        />
      </div>
    </div>
  );
}
