import { resolve } from 'node:path';
import { MemoryLogger } from '../log.js';
import { ExcludeRules } from './excludes.js';
import { scanSource } from './source-scan.js';

export interface ExcludePreview {
  /** Excluded paths (a folder stands for everything below it), at most `limit` of them. */
  paths: { path: string; isDirectory: boolean; bytes: number }[];
  excluded: number;
  excludedBytes: number;
  /** What would be backed up. */
  files: number;
  bytes: number;
  truncated: boolean;
}

/** What a set of patterns (plus the `.cairnignore` files in the tree) would exclude from a backup of `root`. */
export async function previewExcludes(root: string, patterns: readonly string[], options: { limit?: number; signal?: AbortSignal } = {}):
  Promise<ExcludePreview> {
  const limit = options.limit ?? 1000;
  const paths: ExcludePreview['paths'] = [];
  const { totals } = await scanSource(resolve(root), {
    excludes: ExcludeRules.fromPatterns(patterns), log: new MemoryLogger(), signal: options.signal,
    onExcluded: (path, isDirectory, bytes) => { if (paths.length < limit) paths.push({ path, isDirectory, bytes }); },
  });
  return {
    paths, excluded: totals.excluded, excludedBytes: totals.excludedBytes, files: totals.files, bytes: totals.bytes,
    truncated: totals.excluded > paths.length,
  };
}
