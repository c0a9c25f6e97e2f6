/** Where readers get a snapshot's chunks decoded and verified: the store, with the snapshot's key if it has one. */
export interface ChunkSource {
  /**
   * The chunk's data, checked against its digest and `length` (CORRUPT or NOT_FOUND otherwise); with
   * `checkDigest` false against its length and CRC (or GCM tag) only, for a caller that checks the content itself.
   */
  readChunk(digest: Uint8Array, length: number, checkDigest?: boolean): Buffer;
}
