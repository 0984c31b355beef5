import { HnswGraph } from './hnsw-graph';
import { type ScoredId, TopK } from './top-k';

const INITIAL_CAPACITY = 64;

export interface VectorIndexOptions {
  /**
   * From this many vectors on, searches go through an HNSW graph instead of a full scan. Below it a
   * scan is as fast and exact. 0 disables the graph.
   */
  annThreshold?: number;
}

/** A scan of a few thousand 384-dimensional vectors takes about a millisecond; the graph, a tenth. */
export const DEFAULT_ANN_THRESHOLD = 2000;

/**
 * Vectors moved into a graph under construction per step. Building the graph of 2,000 384-dimensional
 * vectors in one go blocks for 160–230 ms on the development machine (usearch inserts take ~80 µs
 * each); 32 inserts take a few milliseconds, so no step holds the event loop longer than a slice.
 */
export const GRAPH_BUILD_STEP = 32;

/** A graph being filled in steps; searches keep using the exact scan until it holds every vector. */
interface GraphUnderConstruction {
  readonly graph: HnswGraph;
  /** Ids present when construction started, in slot order; moved into the graph in steps. */
  readonly backlog: readonly string[];
  next: number;
  readonly done: Promise<void>;
  readonly finish: () => void;
}

/**
 * Cosine-similarity search over one tenant's chunk embeddings: an exact scan for small collections
 * and for selective filters, an HNSW graph (usearch) for large ones.
 *
 * Vectors live in one contiguous Float32Array, `dimension` floats per slot, kept dense by moving
 * the last vector into a removed slot: a search is then a single linear pass over memory, which is
 * what makes exact search fast enough for an embedded index (no per-vector objects, no gaps).
 * Vectors are L2-normalised on the way in, so cosine similarity is a plain dot product — and stays
 * correct even if an embedding model hands us vectors that are not quite unit length.
 */
export class VectorIndex {
  private buffer: Float32Array;
  private readonly idBySlot: string[] = [];
  private readonly slotById = new Map<string, number>();

  private graph: HnswGraph | undefined;
  private construction: GraphUnderConstruction | undefined;
  private readonly annThreshold: number;

  constructor(
    readonly dimension: number,
    options: VectorIndexOptions = {},
  ) {
    if (!Number.isInteger(dimension) || dimension <= 0) {
      throw new RangeError(`vector dimension must be a positive integer, got ${dimension}`);
    }
    this.buffer = new Float32Array(INITIAL_CAPACITY * dimension);
    this.annThreshold = options.annThreshold ?? DEFAULT_ANN_THRESHOLD;
  }

  get size(): number {
    return this.idBySlot.length;
  }

  /** Whether searches go through the HNSW graph (false below the threshold and while it is being built). */
  get usesGraph(): boolean {
    return this.graph !== undefined;
  }

  /** Resolves once a graph under construction is complete (at once when none is being built). */
  graphBuilt(): Promise<void> {
    return this.construction?.done ?? Promise.resolve();
  }

  has(id: string): boolean {
    return this.slotById.has(id);
  }

  /** The stored (unit-length) vector of `id`, as a view into the index: do not modify it. */
  vectorOf(id: string): Float32Array | undefined {
    const slot = this.slotById.get(id);
    return slot === undefined ? undefined : this.buffer.subarray(slot * this.dimension, (slot + 1) * this.dimension);
  }

  /** Adds the vector under `id`, replacing any vector already stored for it. */
  add(id: string, vector: Float32Array): void {
    this.assertDimension(vector);
    let slot = this.slotById.get(id);
    if (slot === undefined) {
      slot = this.idBySlot.length;
      this.ensureCapacity(slot + 1);
      this.idBySlot.push(id);
      this.slotById.set(id, slot);
    }
    const offset = slot * this.dimension;
    this.buffer.set(vector, offset);
    const unit = normaliseInPlace(this.buffer.subarray(offset, offset + this.dimension));
    if (this.graph) this.graph.add(id, unit);
    else if (this.construction) {
      this.construction.graph.add(id, unit); // new and replaced vectors go straight in
      this.advanceConstruction();
    } else if (this.annThreshold > 0 && this.size >= this.annThreshold) this.startConstruction();
  }

  remove(id: string): boolean {
    const slot = this.slotById.get(id);
    if (slot === undefined) return false;
    const lastSlot = this.idBySlot.length - 1;
    if (slot !== lastSlot) {
      const lastId = this.idBySlot[lastSlot];
      this.buffer.copyWithin(slot * this.dimension, lastSlot * this.dimension, (lastSlot + 1) * this.dimension);
      this.idBySlot[slot] = lastId;
      this.slotById.set(lastId, slot);
    }
    this.idBySlot.pop();
    this.slotById.delete(id);
    this.graph?.remove(id);
    this.construction?.graph.remove(id);
    if (this.size < this.annThreshold / 2) this.dropGraph();
    this.shrinkIfSparse();
    return true;
  }

  /**
   * The `limit` most similar vectors that `accept` lets through, best first; `score` is the cosine
   * similarity in [-1, 1]. The filter runs only for vectors that would make the current top list,
   * so a selective filter does not cost a lookup per stored vector.
   */
  search(query: Float32Array, limit: number, accept?: (id: string) => boolean): ScoredId[] {
    this.assertDimension(query);
    if (this.construction) this.advanceConstruction();
    const unitQuery = normaliseInPlace(Float32Array.from(query));
    if (this.graph) {
      // With a filter the graph proposes extra candidates for it to thin out; if a selective filter
      // leaves too few, the exact scan (which applies the filter lazily) answers instead.
      const proposed = this.graph.search(unitQuery, accept ? Math.max(limit * 2, 64) : limit);
      const accepted = accept ? proposed.filter((hit) => accept(hit.id)) : proposed;
      if (accepted.length >= limit || proposed.length >= this.size) return accepted.slice(0, limit);
    }
    return this.scan(unitQuery, limit, accept);
  }

  /**
   * Starts filling a graph with the vectors stored so far, in steps of GRAPH_BUILD_STEP: each later
   * add and search takes one step (so a bulk load or a busy tenant finishes it deterministically, in
   * call order), and so does every turn of the event loop while the index is otherwise idle.
   * Meanwhile searches scan exactly, which is correct, only slower.
   */
  private startConstruction(): void {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    this.construction = { graph: new HnswGraph(this.dimension, 64), backlog: [...this.idBySlot], next: 0, done, finish };
    this.advanceConstruction();
    this.continueConstructionWhenIdle(this.construction);
  }

  private advanceConstruction(): void {
    const construction = this.construction;
    if (!construction) return;
    const { graph, backlog } = construction;
    for (let moved = 0; moved < GRAPH_BUILD_STEP && construction.next < backlog.length; ) {
      const id = backlog[construction.next++];
      const slot = this.slotById.get(id);
      // Removed since, or already added (re-added after construction started): nothing to move.
      if (slot === undefined || graph.has(id)) continue;
      graph.add(id, this.buffer.subarray(slot * this.dimension, (slot + 1) * this.dimension));
      moved++;
    }
    if (construction.next < backlog.length) return;
    this.graph = graph;
    this.construction = undefined;
    construction.finish();
  }

  private continueConstructionWhenIdle(construction: GraphUnderConstruction): void {
    // Not unref'd: an unref'd immediate lets the event loop block in its poll phase, and the
    // construction would then only move when some other event happens to wake the loop.
    setImmediate(() => {
      if (this.construction !== construction) return;
      this.advanceConstruction();
      if (this.construction === construction) this.continueConstructionWhenIdle(construction);
    });
  }

  private dropGraph(): void {
    this.graph = undefined;
    const construction = this.construction;
    this.construction = undefined;
    construction?.finish();
  }

  private scan(unitQuery: Float32Array, limit: number, accept?: (id: string) => boolean): ScoredId[] {
    const best = new TopK(limit);
    const { buffer, dimension, idBySlot } = this;
    for (let slot = 0, offset = 0; slot < idBySlot.length; slot++, offset += dimension) {
      let dot = 0;
      for (let i = 0; i < dimension; i++) dot += buffer[offset + i] * unitQuery[i];
      const id = idBySlot[slot];
      if (best.admits(id, dot) && (accept === undefined || accept(id))) best.offer(id, dot);
    }
    return best.toSortedArray();
  }

  private assertDimension(vector: Float32Array): void {
    if (vector.length !== this.dimension) {
      throw new RangeError(`expected a vector of dimension ${this.dimension}, got ${vector.length}`);
    }
  }

  private ensureCapacity(slots: number): void {
    const capacity = this.buffer.length / this.dimension;
    if (slots <= capacity) return;
    this.resize(Math.max(slots, capacity * 2));
  }

  /** Gives memory back after large removals; the factor-4 gap avoids resize ping-pong. */
  private shrinkIfSparse(): void {
    const capacity = this.buffer.length / this.dimension;
    if (capacity > INITIAL_CAPACITY && this.size < capacity / 4) {
      this.resize(Math.max(INITIAL_CAPACITY, Math.ceil(capacity / 2)));
    }
  }

  private resize(slots: number): void {
    const resized = new Float32Array(slots * this.dimension);
    resized.set(this.buffer.subarray(0, this.size * this.dimension));
    this.buffer = resized;
  }
}

/** Scales to unit length; a zero vector stays zero (similar to nothing rather than NaN). */
function normaliseInPlace(vector: Float32Array): Float32Array {
  let sumOfSquares = 0;
  for (let i = 0; i < vector.length; i++) sumOfSquares += vector[i] * vector[i];
  if (sumOfSquares === 0) return vector;
  const inverseNorm = 1 / Math.sqrt(sumOfSquares);
  for (let i = 0; i < vector.length; i++) vector[i] *= inverseNorm;
  return vector;
}
