/** Standard IR metrics over a ranked list of document ids and graded judgements (as in BEIR/pytrec_eval). */

export function ndcgAt(k: number, ranked: readonly string[], judged: ReadonlyMap<string, number>): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, index) => {
    const gain = judged.get(id) ?? 0;
    if (gain > 0) dcg += gain / Math.log2(index + 2);
  });
  const ideal = [...judged.values()]
    .filter((gain) => gain > 0)
    .sort((a, b) => b - a)
    .slice(0, k)
    .reduce((sum, gain, index) => sum + gain / Math.log2(index + 2), 0);
  return ideal === 0 ? 0 : dcg / ideal;
}

export function recallAt(k: number, ranked: readonly string[], judged: ReadonlyMap<string, number>): number {
  const relevant = [...judged.entries()].filter(([, gain]) => gain > 0).map(([id]) => id);
  if (relevant.length === 0) return 0;
  const top = new Set(ranked.slice(0, k));
  return relevant.filter((id) => top.has(id)).length / relevant.length;
}

export function mrrAt(k: number, ranked: readonly string[], judged: ReadonlyMap<string, number>): number {
  const index = ranked.slice(0, k).findIndex((id) => (judged.get(id) ?? 0) > 0);
  return index < 0 ? 0 : 1 / (index + 1);
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** The figures every Quarry retrieval evaluation reports for one query. */
export interface RankingScores {
  ndcgAt10: number;
  recallAtK: number;
  mrrAt10: number;
}

/** nDCG@10, Recall@`recallK` and MRR@10 of one ranking. */
export function scoreRanking(ranked: readonly string[], judged: ReadonlyMap<string, number>, recallK: number): RankingScores {
  return { ndcgAt10: ndcgAt(10, ranked, judged), recallAtK: recallAt(recallK, ranked, judged), mrrAt10: mrrAt(10, ranked, judged) };
}

/** The mean of each figure over queries (0 for none). */
export function meanScores(scores: readonly RankingScores[]): RankingScores {
  return {
    ndcgAt10: mean(scores.map((score) => score.ndcgAt10)),
    recallAtK: mean(scores.map((score) => score.recallAtK)),
    mrrAt10: mean(scores.map((score) => score.mrrAt10)),
  };
}

/**
 * A search's chunk hits folded into a ranking of documents, best first: each document at the rank
 * of its best chunk, under the id `idOf` gives it (hits it gives none are left out).
 */
export function rankDocuments<H>(hits: readonly H[], idOf: (hit: H) => string | undefined): string[] {
  const ranked: string[] = [];
  const seen = new Set<string>();
  for (const hit of hits) {
    const id = idOf(hit);
    if (id !== undefined && !seen.has(id)) {
      seen.add(id);
      ranked.push(id);
    }
  }
  return ranked;
}
