/**
 * A set of 32-byte digests in one fixed block of memory (open addressing), for "each chunk once per job"
 * in GC marking and verify. When it is fuller than its load limit it stops accepting digests: callers then
 * simply do the work again for a repeated digest, so memory stays bounded whatever the store's size.
 */
export class DigestSet {
  private readonly slots: Uint8Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  private readonly limit: number;
  /** A number kept with each digest (verify keeps a chunk's decoded length), if asked for. */
  private readonly values: Uint32Array | undefined;
  size = 0;

  /** `capacityLog2` slots of 32 bytes each: the default 2^20 is 32 MiB and holds 750,000 digests. */
  constructor(capacityLog2 = 20, options: { withValues?: boolean } = {}) {
    const capacity = 2 ** capacityLog2;
    this.slots = new Uint8Array(capacity * 32);
    this.used = new Uint8Array(capacity);
    this.values = options.withValues ? new Uint32Array(capacity) : undefined;
    this.mask = capacity - 1;
    this.limit = Math.floor(capacity * 0.75);
  }

  get full(): boolean {
    return this.size >= this.limit;
  }

  has(digest: Uint8Array): boolean {
    return this.find(digest) >= 0;
  }

  /** The value kept with a digest (0 if none was given), or undefined if the digest is not in the set. */
  valueOf(digest: Uint8Array): number | undefined {
    const i = this.find(digest);
    return i < 0 ? undefined : (this.values?.[i] ?? 0);
  }

  /** Adds a digest; returns false if it was already there or the set is full (then nothing is added). */
  add(digest: Uint8Array, value = 0): boolean {
    let i = this.hash(digest);
    for (;;) {
      if (!this.used[i]) {
        if (this.full) return false;
        this.slots.set(digest.subarray(0, 32), i * 32);
        if (this.values) this.values[i] = value;
        this.used[i] = 1;
        this.size++;
        return true;
      }
      if (this.equals(i, digest)) return false;
      i = (i + 1) & this.mask;
    }
  }

  private find(digest: Uint8Array): number {
    let i = this.hash(digest);
    while (this.used[i]) {
      if (this.equals(i, digest)) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Digests are SHA-256 outputs, so any four of their bytes are already a uniform hash. */
  private hash(digest: Uint8Array): number {
    return ((digest[0]! | (digest[1]! << 8) | (digest[2]! << 16) | (digest[3]! << 24)) >>> 0) & this.mask;
  }

  private equals(slot: number, digest: Uint8Array): boolean {
    const base = slot * 32;
    for (let k = 0; k < 32; k++) if (this.slots[base + k] !== digest[k]) return false;
    return true;
  }
}
