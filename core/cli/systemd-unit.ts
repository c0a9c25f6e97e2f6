import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CairnError } from '../errors.js';
import { writeFileAtomicSync } from '../fs/atomic-write.js';
import { makeDirectories } from '../fs/make-directories.js';

/**
 * The systemd user unit that runs `cairn scheduler` in the background: `cairn scheduler --install-unit` writes
 * it; the user enables it with systemctl (Cairn never runs systemctl itself).
 */

export const UNIT_NAME = 'cairn-scheduler.service';

/** `$XDG_CONFIG_HOME/systemd/user/cairn-scheduler.service`, `~/.config/…` when that is unset (or not absolute). */
export function userUnitPath(env: NodeJS.ProcessEnv = process.env): string {
  const config =
    env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(config, 'systemd', 'user', UNIT_NAME);
}

/** The unit: this Node binary running this cairn.js; restarted if it fails; the config folder it was given. */
export function schedulerUnit(node: string, cli: string, env: NodeJS.ProcessEnv = process.env): string {
  const configDir = env.CAIRN_CONFIG_DIR;
  // Environment= expands specifiers (%) but not variables: its $ means itself.
  const environment = configDir ? [`Environment=${quote(`CAIRN_CONFIG_DIR=${resolve(configDir)}`, false)}`] : [];
  return [
    '# Written by `cairn scheduler --install-unit`: runs the backup plans while you are logged in',
    '# (`loginctl enable-linger` keeps it running when you are not).',
    '[Unit]',
    'Description=Cairn backup scheduler',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${quote(node)} ${quote(cli)} scheduler`,
    ...environment,
    'Restart=on-failure',
    'RestartSec=30',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

/** Writes the unit atomically (replacing an older one); returns its path and text. */
export function installSchedulerUnit(env: NodeJS.ProcessEnv = process.env): { path: string; unit: string } {
  if (process.platform !== 'linux')
    throw new CairnError(
      'INVALID_ARGUMENT',
      `--install-unit writes a systemd unit, which is for Linux (this is ${process.platform})`,
    );
  const path = userUnitPath(env);
  const cli = join(dirname(fileURLToPath(import.meta.url)), 'cairn.js');
  const unit = schedulerUnit(process.execPath, cli, env);
  makeDirectories(dirname(path), 0o755);
  writeFileAtomicSync(path, unit, { fsync: true, mode: 0o644 });
  return { path, unit };
}

/**
 * One word of a systemd command line or assignment, quoted: a backslash and a double quote escaped, `%` (a
 * specifier) doubled and, in a command line, `$` (a variable) too, so a path with spaces or either sign means itself.
 */
function quote(word: string, dollarIsVariable = true): string {
  const escapes: Record<string, string> = { '\\': '\\\\', '"': '\\"', '%': '%%', $: dollarIsVariable ? '$$' : '$' };
  return `"${word.replace(/[\\"%$]/g, (c) => escapes[c]!)}"`;
}
