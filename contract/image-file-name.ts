/**
 * The file name an image archive restores to by default: its name without `.fidx`, and without the `.img` the
 * backup added to a name that had an extension of its own (`disk.img.fidx` → `disk.img`, `sda.raw.img.fidx` →
 * `sda.raw`). Shared by the host's save dialog and the renderer's restore dialog.
 */
export function imageFileName(archive: string): string {
  const name = archive.replace(/\.fidx$/, '');
  const stem = name.replace(/\.img$/, '');
  return stem !== name && stem.includes('.') ? stem : name;
}
