import { TopK } from './top-k';

describe('TopK', () => {
  it('keeps the k highest scores, best first, whatever the order they arrive in', () => {
    const scores = [5, 1, 9, 3, 7, 2, 8, 6, 4, 0];
    const top = new TopK(3);
    scores.forEach((score) => top.offer(`id${score}`, score));
    expect(top.toSortedArray()).toEqual([
      { id: 'id9', score: 9 },
      { id: 'id8', score: 8 },
      { id: 'id7', score: 7 },
    ]);
  });

  it('agrees with a full sort on random input', () => {
    const items = Array.from({ length: 1_000 }, (_, i) => ({ id: `c${i}`, score: Math.sin(i * 12.9898) }));
    const top = new TopK(25);
    items.forEach(({ id, score }) => top.offer(id, score));
    const expected = [...items].sort((a, b) => b.score - a.score).slice(0, 25);
    expect(top.toSortedArray()).toEqual(expected);
  });

  it('breaks score ties by id so results are deterministic', () => {
    const top = new TopK(2);
    ['c', 'a', 'b'].forEach((id) => top.offer(id, 1));
    expect(top.toSortedArray().map((item) => item.id)).toEqual(['a', 'b']);
  });

  it('admits nothing with capacity 0 and rejects NaN', () => {
    const empty = new TopK(0);
    empty.offer('a', 1);
    expect(empty.size).toBe(0);
    const top = new TopK(2);
    top.offer('nan', Number.NaN);
    expect(top.size).toBe(0);
  });

  it('reports whether an item would be kept', () => {
    const top = new TopK(1);
    top.offer('a', 0.5);
    expect(top.admits('b', 0.4)).toBe(false);
    expect(top.admits('b', 0.6)).toBe(true);
  });
});
