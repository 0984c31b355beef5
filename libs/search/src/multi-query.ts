import { reciprocalRankFusion } from './reciprocal-rank-fusion';
import type { SearchHit } from './search-index.port';

/** At most this many phrasings besides the question: each one is a full search. */
export const MAX_QUERY_VARIANTS = 4;

/**
 * Multi-query retrieval (RAG-Fusion): the question and its rephrasings are searched separately and
 * their rankings fused by reciprocal rank, so a passage that several phrasings find near the top
 * ranks first, and a passage only one phrasing reaches (its words, not the question's) still gets in.
 * Each variant search asks for more than `topK` so that fusion has candidates to reorder.
 *
 * The fused hit keeps the question's own lexical and vector scores when the question found it;
 * `score` becomes the fused reciprocal-rank score.
 */
export function fuseVariantRankings(rankings: readonly (readonly SearchHit[])[], topK: number): SearchHit[] {
  const hitById = new Map<string, SearchHit>();
  for (const ranking of rankings) for (const hit of ranking) if (!hitById.has(hit.chunkId)) hitById.set(hit.chunkId, hit);
  return reciprocalRankFusion(rankings.map((ranking) => ranking.map((hit) => hit.chunkId)))
    .slice(0, topK)
    .map(({ id, score }) => ({ ...(hitById.get(id) as SearchHit), score }));
}

/** How many hits each phrasing's search asks for, so fusion can reorder beyond the first `topK`. */
export function variantSearchDepth(topK: number): number {
  return Math.min(200, Math.max(topK * 2, 20));
}
