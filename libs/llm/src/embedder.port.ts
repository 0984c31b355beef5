/**
 * Turns texts into vectors for similarity search. Implementations return one vector per input text, in
 * input order, each of length `dimensions` and of unit L2 length — except a text with nothing to index
 * (empty, only stop words), which gets an all-zero vector so that it matches nothing.
 */
export interface Embedder {
  /** Identifies the vector space: vectors from different models must never be compared. */
  readonly model: string;
  readonly dimensions: number;
  embed(texts: string[]): Promise<Float32Array[]>;
}
