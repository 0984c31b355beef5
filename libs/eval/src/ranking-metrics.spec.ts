import { meanScores, rankDocuments, scoreRanking } from './ranking-metrics';

describe('ranking metrics', () => {
  const judged = new Map([
    ['a', 1],
    ['b', 1],
  ]);

  it('scores a perfect ranking 1 and a ranking without relevant documents 0', () => {
    expect(scoreRanking(['a', 'b', 'c'], judged, 10)).toEqual({ ndcgAt10: 1, recallAtK: 1, mrrAt10: 1 });
    expect(scoreRanking(['c', 'd'], judged, 10)).toEqual({ ndcgAt10: 0, recallAtK: 0, mrrAt10: 0 });
  });

  it('counts recall only within k and MRR from the first relevant rank', () => {
    const scores = scoreRanking(['c', 'a', 'd', 'b'], judged, 2);
    expect(scores.recallAtK).toBe(0.5);
    expect(scores.mrrAt10).toBe(0.5);
    expect(scores.ndcgAt10).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3)), 10);
    expect(meanScores([scores, { ndcgAt10: 1, recallAtK: 1, mrrAt10: 1 }]).recallAtK).toBe(0.75);
    expect(meanScores([])).toEqual({ ndcgAt10: 0, recallAtK: 0, mrrAt10: 0 });
  });

  it('folds chunk hits into documents at the rank of their best chunk, leaving out hits without an id', () => {
    const hits = [{ file: 'x.md' }, { file: 'y.md' }, { file: 'x.md' }, { file: 'notes.txt' }, { file: 'z.md' }];
    expect(rankDocuments(hits, (hit) => (hit.file.endsWith('.md') ? hit.file.slice(0, -3) : undefined))).toEqual(['x', 'y', 'z']);
  });
});
