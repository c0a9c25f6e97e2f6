import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { App } from 'electron';
import { writeFileAtomicSync } from '../core/fs/atomic-write.js';
import { makeDirectories } from '../core/fs/make-directories.js';

/** Started with this, Cairn opens no window: the tray only (a start at login). */
export const HIDDEN_FLAG = '--hidden';

export interface LoginItemDeps {
  app: Pick<App, 'setLoginItemSettings' | 'getLoginItemSettings' | 'isPackaged' | 'getAppPath'>;
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** The running executable (Electron's, or the packaged app's). */
  execPath: string;
}

export interface LoginItem {
  isEnabled(): boolean;
  setEnabled(on: boolean): void;
}

/**
 * "Start Cairn at login", hidden: the system's login items on macOS and Windows; on Linux an XDG autostart
 * entry, `$XDG_CONFIG_HOME/autostart/cairn.desktop` (else `~/.config/autostart`), written atomically.
 */
export function loginItem(deps: LoginItemDeps): LoginItem {
  if (deps.platform === 'linux') return autostartEntry(deps);
  const args = launchArgs(deps);
  return {
    isEnabled: () => deps.app.getLoginItemSettings({ args }).openAtLogin,
    setEnabled: (openAtLogin) => deps.app.setLoginItemSettings({ openAtLogin, args }),
  };
}

/** Whether this start is a hidden one: asked for with the flag, or (macOS, which passes no arguments) at login. */
export function startedHidden(argv: readonly string[], deps: Pick<LoginItemDeps, 'app' | 'platform'>): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  return deps.platform === 'darwin' && deps.app.getLoginItemSettings().wasOpenedAtLogin === true;
}

export function autostartFile(env: NodeJS.ProcessEnv): string {
  // The XDG spec ignores a relative XDG_CONFIG_HOME.
  const config =
    env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(config, 'autostart', 'cairn.desktop');
}

function autostartEntry(deps: LoginItemDeps): LoginItem {
  const file = autostartFile(deps.env);
  return {
    isEnabled: () => existsSync(file),
    setEnabled: (on) => {
      if (!on) return rmSync(file, { force: true });
      makeDirectories(join(file, '..'), 0o700);
      writeFileAtomicSync(file, desktopEntry(launchCommand(deps)), { fsync: true, mode: 0o644 });
    },
  };
}

/** What starts this app hidden: the AppImage (not its mount, which changes), or Electron with the app folder. */
function launchCommand(deps: LoginItemDeps): string[] {
  const executable = deps.app.isPackaged ? (deps.env.APPIMAGE ?? deps.execPath) : deps.execPath;
  return [executable, ...launchArgs(deps)];
}

function launchArgs(deps: LoginItemDeps): string[] {
  return deps.app.isPackaged ? [HIDDEN_FLAG] : [deps.app.getAppPath(), HIDDEN_FLAG];
}

export function desktopEntry(command: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Cairn',
    'Comment=Backups that run themselves',
    `Exec=${command.map(execArgument).join(' ')}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * One argument of an Exec line, as the Desktop Entry spec wants it: `%` doubled (field codes), quoted when it
 * holds a reserved character, `"` `` ` `` `$` `\` escaped inside the quotes, and then every backslash doubled
 * again (the value is a string, whose escapes are undone first).
 */
export function execArgument(arg: string): string {
  if (/\p{Cc}/u.test(arg))
    throw new Error(`cannot start ${JSON.stringify(arg)} at login: it holds a control character`);
  const plain = arg.replaceAll('%', '%%');
  if (!/[\s"'\\><~|&;$*?#()`]/.test(plain)) return plain;
  return `"${plain.replace(/["`$\\]/g, (c) => `\\${c}`)}"`.replaceAll('\\', '\\\\');
}
