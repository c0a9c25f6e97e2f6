import { readFileSync } from 'node:fs';
import { errnoCode } from '../errors.js';

/**
 * When a process started, to tell it from a later one that got its pid: Linux hands out pids again after
 * `pid_max` (often only 32,768), so on a busy machine a killed lock holder's pid soon names another, live process,
 * and "the pid is alive" would keep the dead holder's lock for ever. Lock and lease records carry their process's
 * start time (field 22 of /proc/<pid>/stat, in clock ticks since boot), as PBS's task ids do; where there is no
 * /proc it is undefined and the pid alone is judged.
 */
export function processStartTime(pid: number): number | undefined {
  return processStat(pid)?.start;
}

/** Fields 3 (state) and 22 (start time) of /proc/<pid>/stat; undefined where there is no such file. */
function processStat(pid: number): { state: string; start: number | undefined } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces or ')': the fields after the last ')' count.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return { state: fields[0] ?? '', start: Number.isSafeInteger(start) ? start : undefined };
}

/** This process's start time, taken once. */
export const OWN_START_TIME = processStartTime(process.pid);

/**
 * Whether the process that wrote a record on this computer still runs: its pid exists (EPERM: it does, as
 * another user's), it is not a zombie, and, when the record has its start time, the process with that pid
 * started then.
 */
export function processIsAlive(pid: number, startTime?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM') return false;
  }
  const stat = processStat(pid);
  // A killed process stays a zombie until its parent reaps it (seconds, on a busy machine): it holds nothing.
  if (stat && (stat.state === 'Z' || stat.state === 'X')) return false;
  if (startTime === undefined) return true;
  return stat?.start === undefined || stat.start === startTime;
}
