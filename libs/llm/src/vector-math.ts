/**
 * Scales a vector to unit L2 length so that dot product equals cosine similarity. A zero vector stays
 * zero: it has no direction, and a zero vector matches nothing, which is the honest result for a text
 * without any indexable content.
 */
export function l2Normalize(values: ArrayLike<number>): Float32Array {
  let sumOfSquares = 0;
  for (let i = 0; i < values.length; i++) sumOfSquares += values[i] * values[i];
  const normalized = new Float32Array(values.length);
  if (sumOfSquares === 0) return normalized;
  const inverseNorm = 1 / Math.sqrt(sumOfSquares);
  for (let i = 0; i < values.length; i++) normalized[i] = values[i] * inverseNorm;
  return normalized;
}

export function dotProduct(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`Cannot compare vectors of length ${a.length} and ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}
