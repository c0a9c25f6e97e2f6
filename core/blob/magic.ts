import { createHash } from 'node:crypto';

/** PBS magics: the first 8 bytes of SHA-256 of a label (spec 2.1). Computed, so they cannot be mistyped. */
function magic(label: string): Buffer {
  return createHash('sha256').update(label).digest().subarray(0, 8);
}

export const UNCOMPRESSED_BLOB_MAGIC = magic('Proxmox Backup uncompressed blob v1.0');
export const COMPRESSED_BLOB_MAGIC = magic('Proxmox Backup zstd compressed blob v1.0');
export const ENCRYPTED_BLOB_MAGIC = magic('Proxmox Backup encrypted blob v1.0');
export const ENCR_COMPR_BLOB_MAGIC = magic('Proxmox Backup zstd compressed encrypted blob v1.0');
export const FIXED_INDEX_MAGIC = magic('Proxmox Backup fixed sized chunk index v1.0');
export const DYNAMIC_INDEX_MAGIC = magic('Proxmox Backup dynamic sized chunk index v1.0');
