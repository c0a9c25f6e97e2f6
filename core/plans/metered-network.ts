import { execFileSync } from 'node:child_process';

/**
 * Whether the network is metered (a phone's hotspot, a mobile connection), as NetworkManager says on Linux: its
 * `Metered` property is 1 (yes) or 3 (guessed yes). Anything else, or no NetworkManager (another system, a
 * server), is "not metered": the condition never stops a push it cannot judge.
 */
export function isNetworkMetered(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const out = execFileSync(
      'busctl',
      [
        'get-property',
        'org.freedesktop.NetworkManager',
        '/org/freedesktop/NetworkManager',
        'org.freedesktop.NetworkManager',
        'Metered',
      ],
      { timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] },
    ).toString();
    return parseMetered(out);
  } catch {
    return false;
  }
}

/** busctl prints `u 1`: NM_METERED_YES is 1, NM_METERED_GUESS_YES 3. */
export function parseMetered(busctlOutput: string): boolean {
  const match = /^u\s+(\d+)/.exec(busctlOutput.trim());
  return match !== null && (match[1] === '1' || match[1] === '3');
}
