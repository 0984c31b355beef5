import { weightedScoreFusion } from './weighted-score-fusion';

describe('weightedScoreFusion', () => {
  it('keeps a strong list’s clear winner on top against a weak, noisy list', () => {
    const lexical = [
      { id: 'a', score: 30 },
      { id: 'b', score: 10 },
      { id: 'c', score: 9 },
    ];
    const dense = [
      { id: 'c', score: 0.31 },
      { id: 'b', score: 0.3 },
      { id: 'a', score: 0.29 },
    ];
    expect(weightedScoreFusion([{ hits: lexical, weight: 0.8 }, { hits: dense, weight: 0.2 }]).map((hit) => hit.id)).toEqual(['a', 'c', 'b']);
  });

  it('lets the weaker side break near-ties of the stronger one', () => {
    const lexical = [
      { id: 'a', score: 10 },
      { id: 'b', score: 9.9 },
      { id: 'c', score: 1 },
    ];
    const dense = [
      { id: 'b', score: 0.9 },
      { id: 'a', score: 0.1 },
    ];
    expect(weightedScoreFusion([{ hits: lexical, weight: 0.8 }, { hits: dense, weight: 0.2 }])[0].id).toBe('b');
  });

  it('uses the only non-empty list as it is, and scores a missing candidate one deviation below the list’s last hit', () => {
    const only = [
      { id: 'x', score: 2 },
      { id: 'y', score: 1 },
    ];
    expect(weightedScoreFusion([{ hits: only, weight: 0.8 }, { hits: [], weight: 0.2 }]).map((hit) => hit.id)).toEqual(['x', 'y']);
    const fused = weightedScoreFusion([
      { hits: [{ id: 'p', score: 1 }, { id: 'q', score: 0 }], weight: 1 },
      { hits: [{ id: 'r', score: 5 }], weight: 1 },
    ]);
    expect(fused.find((hit) => hit.id === 'r')?.score).toBeCloseTo(-2);
  });
});
