import { useState } from 'react';
import type { AppErrorInfo } from '../../../contract/errors.js';
import { KEEP_RULES } from '../../../contract/keep-rules.js';
import type { GroupRow, KeepOptions, PruneRow } from '../../../contract/model.js';
import { errorInfo } from '../api/client.js';
import { useAppShallow } from '../state/use-app.js';

/** The keep rules in PBS's order (contract/keep-rules.ts), each with its field's label. */
export const RULES: [keyof KeepOptions, string][] = KEEP_RULES.map(({ option, rule }) => [
  option,
  rule === 'last' ? 'Keep last' : `${rule[0]!.toUpperCase()}${rule.slice(1)}`,
]);

export type KeepFields = Record<keyof KeepOptions, string>;

/**
 * The prune simulator's rules as typed and the host's answer for them: every snapshot's keep or remove and why.
 * Changing a rule drops the answer, so what is shown always fits the rules.
 */
export function usePruneSimulator(group: GroupRow) {
  const { client, store } = useAppShallow((s) => ({ client: s.client, store: s.store!.path }));
  const [keep, setKeep] = useState<KeepFields>({
    keepLast: '3',
    keepHourly: '',
    keepDaily: '7',
    keepWeekly: '4',
    keepMonthly: '6',
    keepYearly: '',
  });
  const [rows, setRows] = useState<PruneRow[]>();
  const [error, setError] = useState<AppErrorInfo>();

  const options = (): KeepOptions =>
    Object.fromEntries(RULES.flatMap(([k]) => (keep[k].trim() === '' ? [] : [[k, Number(keep[k])]])));
  const simulate = async () => {
    try {
      setRows(await client.simulatePrune({ store, group: { type: group.type, id: group.id }, keep: options() }));
      setError(undefined);
    } catch (err) {
      setError(errorInfo(err));
    }
  };
  const setRule = (key: keyof KeepOptions, value: string) => {
    setKeep({ ...keep, [key]: value });
    setRows(undefined);
  };
  const removing = rows?.filter((r) => r.outcome === 'would-remove').length ?? 0;
  return { keep, setRule, rows, error, simulate, options, removing };
}
