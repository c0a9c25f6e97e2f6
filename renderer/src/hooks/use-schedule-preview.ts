import { useEffect, useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import type { Schedule, SchedulePreview } from '../../../contract/plans.js';
import { errorInfo } from '../api/client.js';
import { useApp } from '../state/use-app.js';

export type PreviewState =
  { kind: 'waiting' } | { kind: 'preview'; preview: SchedulePreview } | { kind: 'error'; error: AppErrorInfo };

/**
 * The host's preview of a schedule as it is typed (its words and next runs, or why it is not valid), asked a
 * moment after the last change. `problem`: what is wrong with the fields already (nothing is asked then).
 */
export function useSchedulePreview(schedule: Schedule, problem: string | undefined): PreviewState {
  const client = useApp((s) => s.client);
  const key = JSON.stringify(schedule);
  const [answer, setAnswer] = useState<{ key: string; state: PreviewState }>();
  useEffect(() => {
    if (problem) return;
    let stale = false;
    const timer = setTimeout(() => {
      client
        .previewSchedule({ schedule: JSON.parse(key) as Schedule })
        .then((preview) => !stale && setAnswer({ key, state: { kind: 'preview', preview } }))
        .catch((err: unknown) => !stale && setAnswer({ key, state: { kind: 'error', error: errorInfo(err) } }));
    }, 250);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [client, key, problem]);
  if (problem) return { kind: 'error', error: { code: 'INVALID_ARGUMENT', message: problem } };
  return answer?.key === key ? answer.state : { kind: 'waiting' };
}
