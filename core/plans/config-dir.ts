import envPaths from 'env-paths';

/**
 * The user's Cairn configuration folder: plans, the scheduler's state and lock, run history. One folder for the
 * CLI, browser mode and the desktop app, so a plan made in one runs in the others: `$CAIRN_CONFIG_DIR` when
 * set (tests, portable setups), else the platform's config folder (env-paths: `$XDG_CONFIG_HOME/cairn` or
 * `~/.config/cairn` on Linux, `~/Library/Preferences/cairn` on macOS, `%APPDATA%\cairn\Config` on Windows).
 */
export function cairnConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CAIRN_CONFIG_DIR || envPaths('cairn', { suffix: '' }).config;
}
