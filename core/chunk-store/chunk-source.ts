/** Where readers get a snapshot's chunks decoded and verified: the store, with the snapshot's key if it has one. */
export interface ChunkSource {
  /** The chunk's data, checked against its digest and `length` (CORRUPT or NOT_FOUND otherwise). */
  readChunk(digest: Uint8Array, length: number): Buffer;
}
