#!/usr/bin/env node
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appVersion } from '../host/app-version.js';
import { HostService } from '../host/host-service.js';
import { cairnConfigDir } from '../core/plans/config-dir.js';
import { defaultAllowedRoots } from '../host/path-policy.js';
import { startWebServer, type WebServer } from './web-server.js';
import { parseWebArgs, WEB_USAGE, type WebArgs } from './web-args.js';
import { UsageError } from '../core/cli/usage-error.js';
import { loadWebSession, saveWebSession } from './web-session.js';

/**
 * `npm run web`: the app in a browser. Serves the built renderer and the host service on 127.0.0.1; the
 * printed URL carries the session's key, which (like the port) stays the same across restarts (web-session.ts).
 */
const args = argsOrExit(process.argv.slice(2));
const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir =
  args.dataDir ??
  process.env.CAIRN_DATA_DIR ??
  join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'cairn');
const session = loadWebSession(dataDir, { newKey: args.newKey });
const service = new HostService({
  platform: { host: 'web' },
  dataDir,
  allowedRoots: args.allowOnly ? args.allow : [...defaultAllowedRoots(), ...args.allow],
  version: appVersion(root),
  plans: { configDir: cairnConfigDir(), where: 'browser mode' },
  // No secret store: browser mode cannot remember keys (the unlock prompt says why).
  keys: { configDir: cairnConfigDir() },
});
service.startScheduler();
const server = await startOnPort(args.port);
saveWebSession(dataDir, { token: server.token, port: server.port });
process.stdout.write(
  `Cairn is running in browser mode. Open this address (it holds your key; it stays valid when the host restarts,\n` +
    `until you start it with --new-key):\n\n  ${server.url}\n\n` +
    `Cairn may use folders under: ${service.policy.roots.join(', ')}\nPress Ctrl-C to stop (running jobs are cancelled cleanly).\n`,
);

/**
 * The port asked for, else the one of the last run (so an open page finds the host again after a restart), else
 * any free one.
 */
async function startOnPort(asked: number | undefined): Promise<WebServer> {
  const options = { service, rendererDir: join(root, 'dist', 'renderer'), token: session.token };
  if (asked !== undefined || session.port === undefined) return startWebServer({ ...options, port: asked ?? 0 });
  try {
    return await startWebServer({ ...options, port: session.port });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    process.stdout.write(
      `Port ${session.port} of the last run is taken; pages open at its address must use the new one.\n`,
    );
    return startWebServer({ ...options, port: 0 });
  }
}

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) process.exit(130);
  stopping = true;
  if (service.engine.runningCount > 0) process.stdout.write('Cancelling running jobs…\n');
  await service.shutdown();
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

/** The command line, or its usage (--help, exit 0) or what is wrong with it (exit 2). */
function argsOrExit(argv: string[]): WebArgs {
  try {
    const args = parseWebArgs(argv);
    if (!args.help) return args;
    process.stdout.write(WEB_USAGE);
    process.exit(0);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`cairn web: error: ${err.message}\n(npm run web -- --help says what it takes)\n`);
    process.exit(2);
  }
}
