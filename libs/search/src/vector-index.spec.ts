import { VectorIndex } from './vector-index';

const vector = (...values: number[]): Float32Array => Float32Array.from(values);

describe('VectorIndex', () => {
  it('ranks by cosine similarity, best first', () => {
    const index = new VectorIndex(3);
    index.add('x', vector(1, 0, 0));
    index.add('y', vector(0, 1, 0));
    index.add('xy', vector(1, 1, 0));
    const hits = index.search(vector(1, 0.2, 0), 3);
    expect(hits.map((hit) => hit.id)).toEqual(['x', 'xy', 'y']);
    expect(hits[0].score).toBeCloseTo(1 / Math.sqrt(1.04), 5);
  });

  it('normalises vectors, so length does not matter and scores stay within [-1, 1]', () => {
    const index = new VectorIndex(2);
    index.add('long', vector(10, 0));
    index.add('opposite', vector(-3, 0));
    const hits = index.search(vector(0.5, 0), 2);
    expect(hits[0]).toEqual({ id: 'long', score: expect.closeTo(1, 6) as number });
    expect(hits[1]).toEqual({ id: 'opposite', score: expect.closeTo(-1, 6) as number });
  });

  it('returns at most `limit` hits', () => {
    const index = new VectorIndex(2);
    for (let i = 0; i < 10; i++) index.add(`v${i}`, vector(1, i));
    expect(index.search(vector(1, 0), 4).map((hit) => hit.id)).toEqual(['v0', 'v1', 'v2', 'v3']);
    expect(index.search(vector(1, 0), 0)).toEqual([]);
  });

  it('applies the filter before selecting, so a selective filter still fills the list', () => {
    const index = new VectorIndex(2);
    for (let i = 0; i < 100; i++) index.add(`v${i}`, vector(1, i / 10));
    const hits = index.search(vector(1, 0), 3, (id) => Number(id.slice(1)) >= 90);
    expect(hits.map((hit) => hit.id)).toEqual(['v90', 'v91', 'v92']);
  });

  it('replaces the vector of an existing id', () => {
    const index = new VectorIndex(2);
    index.add('a', vector(1, 0));
    index.add('a', vector(0, 1));
    expect(index.size).toBe(1);
    expect(index.search(vector(0, 1), 1)[0].score).toBeCloseTo(1, 6);
  });

  it('keeps the right vectors after removals move the last one into the gap', () => {
    const index = new VectorIndex(2);
    index.add('a', vector(1, 0));
    index.add('b', vector(0, 1));
    index.add('c', vector(-1, 0));
    expect(index.remove('a')).toBe(true);
    expect(index.remove('a')).toBe(false);
    expect(index.has('a')).toBe(false);
    expect(index.search(vector(-1, 0), 1)).toEqual([{ id: 'c', score: expect.closeTo(1, 6) as number }]);
    expect(index.search(vector(0, 1), 1)[0].id).toBe('b');
    expect(index.size).toBe(2);
  });

  it('grows and shrinks its storage without losing or mixing up vectors', () => {
    const index = new VectorIndex(16);
    // Deterministic pseudo-random vectors: each is most similar to itself only.
    const pseudoRandom = (i: number): Float32Array =>
      Float32Array.from({ length: 16 }, (_, axis) => Math.sin((i + 1) * 7.31 + axis * 3.17) * 1000 % 1);
    for (let i = 0; i < 1_000; i++) index.add(`v${i}`, pseudoRandom(i));
    for (let i = 0; i < 1_000; i += 1) if (i % 100 !== 7) index.remove(`v${i}`);
    expect(index.size).toBe(10);
    for (let i = 7; i < 1_000; i += 100) {
      const [best] = index.search(pseudoRandom(i), 1);
      expect(best.id).toBe(`v${i}`);
      expect(best.score).toBeCloseTo(1, 5);
    }
  });

  it('rejects vectors of the wrong dimension', () => {
    const index = new VectorIndex(3);
    expect(() => index.add('a', vector(1, 0))).toThrow(RangeError);
    expect(() => index.search(vector(1, 0), 1)).toThrow(RangeError);
    expect(() => new VectorIndex(0)).toThrow(RangeError);
  });

  it('treats a zero vector as similar to nothing instead of producing NaN', () => {
    const index = new VectorIndex(2);
    index.add('zero', vector(0, 0));
    expect(index.search(vector(1, 0), 1)).toEqual([{ id: 'zero', score: 0 }]);
  });
});

describe('VectorIndex with its HNSW graph', () => {
  const dimension = 32;
  // A deterministic pseudo-random stream, so the test is the same on every run.
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const randomVector = () => Float32Array.from({ length: dimension }, random);

  async function pair(size: number) {
    const exact = new VectorIndex(dimension, { annThreshold: 0 });
    const graph = new VectorIndex(dimension, { annThreshold: 50 });
    for (let index = 0; index < size; index++) {
      const vector = randomVector();
      exact.add(`v${index}`, vector);
      graph.add(`v${index}`, vector);
    }
    await graph.graphBuilt();
    expect(graph.usesGraph).toBe(true);
    return { exact, graph };
  }

  it('finds (nearly) the same neighbours as the exact scan', async () => {
    const { exact, graph } = await pair(600);
    let overlap = 0;
    for (let round = 0; round < 20; round++) {
      const query = randomVector();
      const truth = new Set(exact.search(query, 10).map((hit) => hit.id));
      overlap += graph.search(query, 10).filter((hit) => truth.has(hit.id)).length;
    }
    expect(overlap / 200).toBeGreaterThanOrEqual(0.95);
  });

  it('forgets removed vectors and still honours filters, falling back to a scan when they are selective', async () => {
    const { exact, graph } = await pair(300);
    const query = randomVector();
    const [top] = graph.search(query, 1);
    expect(graph.remove(top.id)).toBe(true);
    expect(graph.search(query, 5).map((hit) => hit.id)).not.toContain(top.id);
    const onlyEven = (id: string) => Number(id.slice(1)) % 100 === 0;
    expect(graph.search(query, 3, onlyEven).map((hit) => hit.id).sort()).toEqual(exact.search(query, 3, onlyEven).map((hit) => hit.id).filter((id) => id !== top.id).sort().slice(0, 3));
  });

  it('builds the graph in steps, scanning exactly meanwhile, without losing vectors added or removed during construction', async () => {
    const exact = new VectorIndex(dimension, { annThreshold: 0 });
    const graph = new VectorIndex(dimension, { annThreshold: 1000 });
    const add = (id: string, vector = randomVector()) => {
      exact.add(id, vector);
      graph.add(id, vector);
    };
    const remove = (id: string) => {
      exact.remove(id);
      graph.remove(id);
    };
    for (let index = 0; index < 1000; index++) add(`v${index}`);
    // Crossing the threshold starts the construction; one step (32 inserts) is far from all 1,000.
    expect(graph.usesGraph).toBe(false);
    const query = randomVector();
    expect(graph.search(query, 10)).toEqual(exact.search(query, 10)); // the exact scan answers meanwhile
    for (let index = 1000; index < 1010; index++) add(`v${index}`); // straight into the graph
    for (let index = 0; index < 10; index++) remove(`v${index}`); // already moved into the graph
    for (let index = 900; index < 910; index++) remove(`v${index}`); // still in the backlog
    add('v905'); // removed from the backlog, then added again
    expect(graph.usesGraph).toBe(false);
    await graph.graphBuilt(); // the rest is moved while the event loop is idle
    expect(graph.usesGraph).toBe(true);
    const remaining = [...Array(1010).keys()].map((index) => `v${index}`).filter((id) => exact.has(id));
    expect(remaining).toHaveLength(991);
    let foundThemselves = 0;
    for (const id of remaining) if (graph.search(exact.vectorOf(id) as Float32Array, 1)[0]?.id === id) foundThemselves++;
    expect(foundThemselves / remaining.length).toBeGreaterThanOrEqual(0.98);
    const everywhere = graph.search(query, 50).map((hit) => hit.id);
    for (const gone of ['v0', 'v9', 'v900', 'v909']) expect(everywhere).not.toContain(gone);
  });

  it('a step is also taken by every add and search, so a bulk load finishes the graph without idle turns', () => {
    const graph = new VectorIndex(dimension, { annThreshold: 64 });
    for (let index = 0; index < 64; index++) graph.add(`v${index}`, randomVector());
    expect(graph.usesGraph).toBe(false); // the first step moved 32 of 64
    graph.search(randomVector(), 1); // the second step moves the rest, synchronously
    expect(graph.usesGraph).toBe(true);
  });
});
