#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HostService } from '../host/host-service.js';
import { defaultAllowedRoots } from '../host/path-policy.js';
import { startWebServer } from './web-server.js';

/**
 * `npm run web`: the app in a browser. Serves the built renderer and the host service on 127.0.0.1; the
 * printed URL carries the session's token.
 */
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    allow: { type: 'string', multiple: true },
    'data-dir': { type: 'string' },
  },
});

const root = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const service = new HostService({
  platform: { host: 'web' },
  dataDir: values['data-dir'] ?? process.env.CAIRN_DATA_DIR ?? join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'cairn'),
  allowedRoots: [...defaultAllowedRoots(), ...(values.allow ?? [])],
  version: pkg.version,
});
const server = await startWebServer({ service, rendererDir: join(root, 'dist', 'renderer'), port: values.port ? Number(values.port) : 0 });
process.stdout.write(`Cairn is running in browser mode. Open this address (it holds this session's key):\n\n  ${server.url}\n\n`
  + `Cairn may use folders under: ${service.policy.roots.join(', ')}\nPress Ctrl-C to stop (running jobs are cancelled cleanly).\n`);

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
