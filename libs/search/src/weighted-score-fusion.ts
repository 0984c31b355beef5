import type { ScoredId } from './top-k';

const STATS_POOL = 50;

export interface WeightedRanking {
  hits: readonly ScoredId[];
  weight: number;
}

/**
 * Fuses ranked lists by their scores: each list's scores are standardised (z-scores over the
 * candidates it returned), then combined with the given weights; a candidate missing from a list
 * counts as one standard deviation below that list's lowest score. Unlike rank fusion this keeps how much better the top hit
 * of a strong list is — which is why a weak side (the local hashing embedder) can refine BM25
 * instead of dragging it down, as rank fusion does.
 */
export function weightedScoreFusion(rankings: readonly WeightedRanking[]): ScoredId[] {
  const fused = new Map<string, number>();
  const floors: number[] = [];
  const standardised = rankings.map(({ hits }) => {
    if (hits.length === 0) return new Map<string, number>();
    // Statistics over the best STATS_POOL hits only, so the result does not depend on how many
    // candidates the caller asked for (topK 10 and topK 200 must agree on their first ten).
    const pool = hits.slice(0, STATS_POOL);
    const mean = pool.reduce((sum, hit) => sum + hit.score, 0) / pool.length;
    const spread = Math.sqrt(pool.reduce((sum, hit) => sum + (hit.score - mean) ** 2, 0) / pool.length) || 1;
    return new Map(hits.map((hit) => [hit.id, (hit.score - mean) / spread]));
  });
  // A candidate the list did not return ranks one standard deviation below its last hit: "not
  // retrieved" is worse than "retrieved last", and a one-hit list still tells its hit apart.
  standardised.forEach((scores, index) => {
    const pool = rankings[index].hits.slice(0, STATS_POOL);
    floors.push(pool.length > 0 ? Math.min(...pool.map((hit) => scores.get(hit.id) as number)) - 1 : 0);
  });
  const ids = new Set(standardised.flatMap((scores) => [...scores.keys()]));
  for (const id of ids) {
    let total = 0;
    standardised.forEach((scores, index) => {
      if (scores.size === 0) return;
      total += rankings[index].weight * (scores.get(id) ?? floors[index]);
    });
    fused.set(id, total);
  }
  return [...fused.entries()].map(([id, score]) => ({ id, score })).sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
