import { reciprocalRankFusion } from './reciprocal-rank-fusion';

describe('reciprocalRankFusion', () => {
  it('sums 1 / (k + rank) over the rankings', () => {
    const fused = reciprocalRankFusion(
      [
        ['a', 'b', 'c'],
        ['b', 'd'],
      ],
      60,
    );
    const byId = new Map(fused.map((item) => [item.id, item.score]));
    expect(byId.get('a')).toBeCloseTo(1 / 61, 12);
    expect(byId.get('b')).toBeCloseTo(1 / 62 + 1 / 61, 12);
    expect(byId.get('c')).toBeCloseTo(1 / 63, 12);
    expect(byId.get('d')).toBeCloseTo(1 / 62, 12);
    expect(fused.map((item) => item.id)).toEqual(['b', 'a', 'd', 'c']);
  });

  it('rewards agreement: second place in both beats first place in one', () => {
    const fused = reciprocalRankFusion([
      ['x', 'both'],
      ['y', 'both'],
    ]);
    expect(fused[0].id).toBe('both');
  });

  it('uses k = 60 by default and honours another k', () => {
    expect(reciprocalRankFusion([['a']])[0].score).toBeCloseTo(1 / 61, 12);
    expect(reciprocalRankFusion([['a']], 0)[0].score).toBe(1);
  });

  it('orders equal fused scores by id and handles empty rankings', () => {
    expect(reciprocalRankFusion([['b'], ['a']]).map((item) => item.id)).toEqual(['a', 'b']);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
    expect(() => reciprocalRankFusion([['a']], -1)).toThrow(RangeError);
  });
});
