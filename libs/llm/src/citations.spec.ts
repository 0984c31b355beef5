import { parseCitedPassageIndexes } from './citations';

describe('parseCitedPassageIndexes', () => {
  const valid = [1, 2, 3, 4];

  it('reads single, grouped, adjacent and ranged markers, ascending without duplicates', () => {
    expect(parseCitedPassageIndexes('A [3]. B [1, 2]. C [2][4]. D [1].', valid)).toEqual([1, 2, 3, 4]);
    expect(parseCitedPassageIndexes('See [2-4].', valid)).toEqual([2, 3, 4]);
    expect(parseCitedPassageIndexes('See [ 1 ;3 ].', valid)).toEqual([1, 3]);
  });

  it('ignores numbers that are not offered passages and brackets that are not citations', () => {
    expect(parseCitedPassageIndexes('Per [7] and [0], see [2].', valid)).toEqual([2]);
    expect(parseCitedPassageIndexes('An array [a, b] and a link [docs](x).', valid)).toEqual([]);
    expect(parseCitedPassageIndexes('In [1990-2020] nothing.', valid)).toEqual([]);
  });

  it('finds nothing in an answer without markers', () => {
    expect(parseCitedPassageIndexes('No citations here.', valid)).toEqual([]);
  });
});
