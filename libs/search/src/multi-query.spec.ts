import { fuseVariantRankings, variantSearchDepth } from './multi-query';
import type { SearchHit } from './search-index.port';

const hit = (chunkId: string, score: number, extra: Partial<SearchHit> = {}): SearchHit => ({
  chunkId,
  documentId: `doc-${chunkId}`,
  filename: `${chunkId}.md`,
  ordinal: 0,
  text: `text of ${chunkId}`,
  score,
  provenance: {},
  ...extra,
});

describe('fuseVariantRankings', () => {
  it('ranks first what several phrasings find near the top, and keeps what only one phrasing found', () => {
    const question = [hit('a', 9), hit('b', 8), hit('c', 7)];
    const variant = [hit('b', 3), hit('d', 2), hit('a', 1)];
    const fused = fuseVariantRankings([question, variant], 4);
    expect(fused.map((entry) => entry.chunkId)).toEqual(['b', 'a', 'd', 'c']);
    expect(fused[0].score).toBeCloseTo(1 / 62 + 1 / 61, 12);
  });

  it('keeps the question’s own lexical and vector scores and cuts to topK', () => {
    const fused = fuseVariantRankings([[hit('a', 9, { lexicalScore: 4.2, vectorScore: 0.3 })], [hit('a', 1, { lexicalScore: 0.5 }), hit('z', 0.5)]], 1);
    expect(fused).toHaveLength(1);
    expect(fused[0]).toMatchObject({ chunkId: 'a', lexicalScore: 4.2, vectorScore: 0.3 });
  });

  it('asks each phrasing for enough candidates to reorder', () => {
    expect(variantSearchDepth(3)).toBe(20);
    expect(variantSearchDepth(50)).toBe(100);
    expect(variantSearchDepth(200)).toBe(200);
  });
});
