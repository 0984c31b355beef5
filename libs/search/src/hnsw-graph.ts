import { Index, MetricKind, ScalarKind } from 'usearch';
import type { ScoredId } from './top-k';

/**
 * An approximate nearest-neighbour graph (HNSW, usearch) over unit vectors with inner-product
 * similarity, stored as 8-bit integers: a quarter of the memory and faster distance computations,
 * at no measurable cost on SciFact (hybrid nDCG@10 0.7026 against 0.7018 with 32-bit floats). It only proposes candidates; ids are mapped to the numeric keys usearch needs, and a
 * removed id's key is never reused (usearch tombstones it).
 */
export class HnswGraph {
  private readonly index: Index;
  private readonly keyById = new Map<string, bigint>();
  private readonly idByKey = new Map<bigint, string>();
  private nextKey = 1n;

  constructor(dimension: number, expansionSearch: number) {
    this.index = new Index({
      dimensions: dimension,
      metric: MetricKind.IP,
      quantization: ScalarKind.I8,
      connectivity: 16,
      expansion_add: 128,
      expansion_search: expansionSearch,
      multi: false,
    });
  }

  get size(): number {
    return this.keyById.size;
  }

  has(id: string): boolean {
    return this.keyById.has(id);
  }

  add(id: string, unitVector: Float32Array): void {
    this.remove(id);
    const key = this.nextKey++;
    // One thread: for a single vector usearch would otherwise start a thread pool on every call
    // (one per core), which made each insert ~20% slower on the development machine.
    this.index.add(key, unitVector, 1);
    this.keyById.set(id, key);
    this.idByKey.set(key, id);
  }

  remove(id: string): void {
    const key = this.keyById.get(id);
    if (key === undefined) return;
    this.index.remove(key);
    this.keyById.delete(id);
    this.idByKey.delete(key);
  }

  /** Up to `count` approximate nearest neighbours, best first, scored by inner product. */
  search(unitQuery: Float32Array, count: number): ScoredId[] {
    if (this.size === 0) return [];
    const matches = this.index.search(unitQuery, Math.min(count, this.size), 1);
    const hits: ScoredId[] = [];
    matches.keys.forEach((key, position) => {
      const id = this.idByKey.get(key);
      if (id !== undefined) hits.push({ id, score: 1 - matches.distances[position] });
    });
    return hits;
  }
}
