#!/usr/bin/env node
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm start`: the desktop app when Electron's binary is installed, else browser mode with a note saying
 * why. The binary is looked up the way the electron package does, without loading that package (loading it
 * tries to download the binary).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function electronBinary(root = ROOT, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pkg = join(root, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const candidate = env.ELECTRON_OVERRIDE_DIST_PATH
    ? join(env.ELECTRON_OVERRIDE_DIST_PATH, executable ?? 'electron')
    : executable
      ? join(pkg, 'dist', executable)
      : undefined;
  return candidate && existsSync(candidate) ? candidate : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const binary = electronBinary();
  if (binary) {
    const child = spawn(binary, [ROOT, ...process.argv.slice(2)], { stdio: 'inherit' });
    child.on('exit', (code) => process.exit(code ?? 0));
  } else {
    process.stdout.write(
      "Electron's binary is not installed here (it is downloaded on first use, and this machine cannot fetch it),\n" +
        'so Cairn starts in browser mode: the same app, served on 127.0.0.1 to your browser.\n' +
        'To get the desktop window, run `npx install-electron` on a machine with internet access, then `npm start` again.\n\n',
    );
    await import('../web/main.js');
  }
}
