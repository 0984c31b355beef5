const INITIAL_CAPACITY = 4;

/**
 * The postings of one term: which chunk slots contain it and how often, in two parallel typed
 * arrays. Typed arrays cost ~8 bytes per posting, against ~70 for a Map entry, and scoring reads
 * them as a linear scan. Removal is lazy: the owner marks postings dead (keeping the live count,
 * and so the term's document frequency, exact) and compacts lists in bulk later.
 */
export class PostingList {
  private slots = new Int32Array(INITIAL_CAPACITY);
  private counts = new Int32Array(INITIAL_CAPACITY);
  private used = 0;
  private dead = 0;

  /** Postings stored, dead ones included: the bound for `slotAt` / `countAt`. */
  get length(): number {
    return this.used;
  }

  /** Chunks that really contain the term. */
  get liveCount(): number {
    return this.used - this.dead;
  }

  slotAt(index: number): number {
    return this.slots[index];
  }

  countAt(index: number): number {
    return this.counts[index];
  }

  append(slot: number, count: number): void {
    if (this.used === this.slots.length) {
      this.slots = grow(this.slots);
      this.counts = grow(this.counts);
    }
    this.slots[this.used] = slot;
    this.counts[this.used] = count;
    this.used++;
  }

  /** Records that one of the postings now belongs to a removed chunk. */
  markOneDead(): void {
    this.dead++;
  }

  /** Drops the postings of removed chunks. */
  compact(isRemoved: (slot: number) => boolean): void {
    let kept = 0;
    for (let i = 0; i < this.used; i++) {
      if (isRemoved(this.slots[i])) continue;
      this.slots[kept] = this.slots[i];
      this.counts[kept] = this.counts[i];
      kept++;
    }
    this.used = kept;
    this.dead = 0;
  }
}

function grow(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}
