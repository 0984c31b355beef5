import { PostingList } from './posting-list';

const contents = (list: PostingList): [number, number][] =>
  Array.from({ length: list.length }, (_, i) => [list.slotAt(i), list.countAt(i)]);

describe('PostingList', () => {
  it('appends postings beyond its initial capacity', () => {
    const list = new PostingList();
    for (let slot = 0; slot < 100; slot++) list.append(slot, slot * 2);
    expect(list.length).toBe(100);
    expect(list.liveCount).toBe(100);
    expect(contents(list)[99]).toEqual([99, 198]);
  });

  it('counts dead postings until compaction removes them', () => {
    const list = new PostingList();
    [10, 11, 12, 13].forEach((slot) => list.append(slot, slot * 100));
    list.markOneDead();
    list.markOneDead();
    expect(list.liveCount).toBe(2);
    expect(list.length).toBe(4);
    list.compact((slot) => slot === 10 || slot === 12);
    expect(contents(list)).toEqual([
      [11, 1100],
      [13, 1300],
    ]);
    expect(list.liveCount).toBe(2);
  });
});
