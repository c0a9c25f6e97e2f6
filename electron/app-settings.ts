import { join } from 'node:path';
import { z } from 'zod';
import { isCairnError } from '../core/errors.js';
import { readJsonFile, writeJsonFileAtomic } from '../core/fs/json-file.js';

export const APP_SETTINGS_FILE = 'app-settings.json';

const SettingsFile = z.object({
  version: z.literal(1),
  /** Closing the window leaves Cairn running in the tray; unset: see keepsRunningInTray. */
  keepInTray: z.boolean().optional(),
});
export type AppSettings = Omit<z.infer<typeof SettingsFile>, 'version'>;

/**
 * The desktop app's own preferences, in its data folder (plans and their state live in the config folder, shared
 * with the CLI and browser mode). A damaged file is read as the defaults and replaced by the next change: it
 * holds preferences only.
 */
export class AppSettingsFile {
  readonly file: string;

  constructor(dataDir: string) {
    this.file = join(dataDir, APP_SETTINGS_FILE);
  }

  read(): AppSettings {
    try {
      const { version: _version, ...settings } = readJsonFile(this.file, SettingsFile, 'the app settings') ?? {};
      return settings;
    } catch (err) {
      if (isCairnError(err, 'CORRUPT')) return {};
      throw err;
    }
  }

  update(change: AppSettings): AppSettings {
    const settings = { ...this.read(), ...change };
    writeJsonFileAtomic(this.file, { version: 1, ...settings });
    return settings;
  }
}

/**
 * Whether closing the window leaves Cairn running in the tray: the user's choice; until they make one, yes when
 * there are backup plans (they run only while Cairn does) and no when there are none.
 */
export function keepsRunningInTray(settings: AppSettings, hasPlans: boolean): boolean {
  return settings.keepInTray ?? hasPlans;
}
