import type { ScoredId } from './top-k';

/**
 * Re-orders a ranked list for diversity (maximal marginal relevance): each next pick maximises
 * λ·relevance − (1−λ)·(highest similarity to anything already picked). Relevance is the fused score
 * scaled to 0..1 over the list; similarity is the cosine of the chunks' vectors (0 when unknown).
 * λ = 1 keeps the order; smaller values spread results over different passages and documents.
 */
export function maximalMarginalRelevance(
  ranked: readonly ScoredId[],
  limit: number,
  lambda: number,
  vectorOf: (id: string) => Float32Array | undefined,
): ScoredId[] {
  if (lambda >= 1 || ranked.length <= 1) return ranked.slice(0, limit);
  const top = ranked[0].score;
  const bottom = ranked[ranked.length - 1].score;
  const relevance = (hit: ScoredId) => (top === bottom ? 1 : (hit.score - bottom) / (top - bottom));
  const rest = [...ranked];
  const picked: ScoredId[] = [];
  const pickedVectors: Float32Array[] = [];
  while (picked.length < limit && rest.length > 0) {
    let bestIndex = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    rest.forEach((hit, index) => {
      const vector = vectorOf(hit.id);
      let redundancy = 0;
      if (vector) for (const other of pickedVectors) redundancy = Math.max(redundancy, dot(vector, other));
      const value = lambda * relevance(hit) - (1 - lambda) * redundancy;
      if (value > bestValue) {
        bestValue = value;
        bestIndex = index;
      }
    });
    const [chosen] = rest.splice(bestIndex, 1);
    picked.push(chosen);
    const vector = vectorOf(chosen.id);
    if (vector) pickedVectors.push(vector);
  }
  return picked;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += a[index] * b[index];
  return sum;
}
