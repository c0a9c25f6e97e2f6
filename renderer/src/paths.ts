/** Path helpers of the renderer (it has no node:path): names for backup ids and files. */

/** The last path component, for default backup ids and file names. */
export function baseName(path: string): string {
  return (
    path
      .replace(/[\\/]+$/, '')
      .split(/[\\/]/)
      .pop() ?? ''
  );
}

/** A folder name as a backup id: letters, digits, '_', '.', '-' (what core accepts). */
export function toBackupId(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .replace(/-+$/, '')
    .slice(0, 128);
}

/** A file name in a folder, with the folder's own separator ("C:\\Restored" + "disk.img" on Windows). */
export function joinPath(folder: string, name: string): string {
  const sep = folder.includes('\\') && !folder.includes('/') ? '\\' : '/';
  return `${folder.replace(/[\\/]+$/, '')}${sep}${name}`;
}
