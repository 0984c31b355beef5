/** Term weighting shared by the embedded BM25 index and the sparse vectors sent to Qdrant. */

/** Term frequency divided by BM25's length normalisation (before saturation by k1). */
export function normalisedFrequency(frequency: number, length: number, averageLength: number, b: number): number {
  if (frequency === 0) return 0;
  return frequency / (1 - b + (b * length) / averageLength);
}

/** "q3-report.pdf" → "q3-report": the file type says nothing about what the chunk is about. */
export function stripExtension(filename: string): string {
  return filename.replace(/\.[\p{L}\p{N}]{1,5}$/u, '');
}

export function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
