export interface ScoredId {
  readonly id: string;
  readonly score: number;
}

/**
 * Keeps the `capacity` best (highest-scoring) ids offered, in a binary min-heap whose root is the
 * worst kept item: O(n log k) time and O(k) memory, instead of sorting all n candidates.
 * Equal scores are ordered by id so results are deterministic whatever the insertion order.
 */
export class TopK {
  private readonly heap: ScoredId[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.heap.length;
  }

  /** The lowest score kept (-Infinity while empty): anything scoring less is not admitted once full. */
  get worstScore(): number {
    return this.heap.length > 0 ? this.heap[0].score : -Infinity;
  }

  /** Whether `offer(id, score)` would keep the item: lets callers skip costly work for losers. */
  admits(id: string, score: number): boolean {
    if (this.capacity <= 0 || Number.isNaN(score)) return false;
    if (this.heap.length < this.capacity) return true;
    return isBetter(score, id, this.heap[0]);
  }

  offer(id: string, score: number): void {
    if (!this.admits(id, score)) return;
    if (this.heap.length < this.capacity) {
      this.heap.push({ id, score });
      this.siftUp(this.heap.length - 1);
    } else {
      this.heap[0] = { id, score };
      this.siftDown(0);
    }
  }

  /** The kept items, best first. */
  toSortedArray(): ScoredId[] {
    return [...this.heap].sort(compareBestFirst);
  }

  private siftUp(index: number): void {
    const { heap } = this;
    let child = index;
    while (child > 0) {
      const parent = (child - 1) >> 1;
      if (!isWorse(heap[child], heap[parent])) return;
      [heap[child], heap[parent]] = [heap[parent], heap[child]];
      child = parent;
    }
  }

  private siftDown(index: number): void {
    const { heap } = this;
    let parent = index;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let worst = parent;
      if (left < heap.length && isWorse(heap[left], heap[worst])) worst = left;
      if (right < heap.length && isWorse(heap[right], heap[worst])) worst = right;
      if (worst === parent) return;
      [heap[parent], heap[worst]] = [heap[worst], heap[parent]];
      parent = worst;
    }
  }
}

/** Sort comparator: higher score first, then id ascending. */
export function compareBestFirst(a: ScoredId, b: ScoredId): number {
  if (a.score !== b.score) return b.score - a.score;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function isBetter(score: number, id: string, than: ScoredId): boolean {
  return score > than.score || (score === than.score && id < than.id);
}

function isWorse(a: ScoredId, b: ScoredId): boolean {
  return isBetter(b.score, b.id, a);
}
