import { maximalMarginalRelevance } from './maximal-marginal-relevance';

describe('maximalMarginalRelevance', () => {
  const vectors: Record<string, Float32Array> = {
    a: Float32Array.from([1, 0]),
    b: Float32Array.from([0.995, 0.0998]),
    c: Float32Array.from([0, 1]),
  };
  const ranked = [
    { id: 'a', score: 1 },
    { id: 'b', score: 0.95 },
    { id: 'c', score: 0.6 },
  ];

  it('keeps the order at λ = 1', () => {
    expect(maximalMarginalRelevance(ranked, 3, 1, (id) => vectors[id]).map((hit) => hit.id)).toEqual(['a', 'b', 'c']);
  });

  it('moves a near-copy of the top hit behind a different one at λ = 0.5', () => {
    expect(maximalMarginalRelevance(ranked, 3, 0.5, (id) => vectors[id]).map((hit) => hit.id)).toEqual(['a', 'c', 'b']);
  });

  it('respects the limit and tolerates unknown vectors', () => {
    expect(maximalMarginalRelevance(ranked, 2, 0.5, () => undefined).map((hit) => hit.id)).toEqual(['a', 'b']);
  });
});
