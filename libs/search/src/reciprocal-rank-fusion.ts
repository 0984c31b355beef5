import { compareBestFirst, type ScoredId } from './top-k';

/** The constant from Cormack et al. (2009); it damps the dominance of the very first ranks. */
export const DEFAULT_RRF_K = 60;

/**
 * Reciprocal Rank Fusion: each ranking contributes 1 / (k + rank) (rank from 1) for every id it
 * contains, and the sums are sorted best first (ties by id, for determinism). Only ranks matter,
 * which is the point: BM25 scores and cosine similarities live on incomparable scales.
 */
export function reciprocalRankFusion(rankings: readonly (readonly string[])[], k = DEFAULT_RRF_K): ScoredId[] {
  if (!(k >= 0)) throw new RangeError(`RRF k must be >= 0, got ${k}`);
  const fused = new Map<string, number>();
  for (const ranking of rankings) {
    ranking.forEach((id, index) => {
      fused.set(id, (fused.get(id) ?? 0) + 1 / (k + index + 1));
    });
  }
  return Array.from(fused, ([id, score]) => ({ id, score })).sort(compareBestFirst);
}
