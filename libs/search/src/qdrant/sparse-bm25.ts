import { termFrequencies, tokenize } from '@quarry/domain';
import { normalisedFrequency, stripExtension, sum } from '../bm25-weighting';

/** Qdrant's sparse vector: parallel arrays, indices unique (we also keep them ascending). */
export interface SparseVector {
  readonly indices: number[];
  readonly values: number[];
}

export interface SparseBm25Options {
  /** Term-frequency saturation, as in the embedded BM25. */
  readonly k1?: number;
  /** Length normalisation: 0 ignores chunk length, 1 fully normalises by it. */
  readonly b?: number;
  /**
   * The "average" chunk length (in index terms) that length normalisation compares against. The
   * embedded index knows the real average of each tenant; Qdrant only stores what we send, so the
   * value is fixed when a chunk is written (changing it takes effect as documents are re-indexed).
   */
  readonly averageTextLength?: number;
  /** Weight of a filename occurrence relative to one in the text (BM25F, as in the embedded index). */
  readonly filenameWeight?: number;
  /** Average filename length in index terms ("q3-revenue.pdf" → q3, revenu, q3revenu). */
  readonly averageFilenameLength?: number;
  /** Text → terms; the domain tokenizer (stop words, Porter2) unless a test swaps it. */
  readonly tokenize?: (text: string) => string[];
}

/**
 * k1 and b are the embedded index's (and Lucene's) defaults. `averageTextLength` = 150 terms was
 * measured, not guessed: with the domain tokenizer a full 400-token (cl100k) chunk — the default
 * CHUNK_SIZE_TOKENS — yields about 194 index terms, and the first 2,000 SciFact abstracts (one chunk
 * per document, like most uploads, whose last chunk is short anyway) average 154 (median 143).
 */
export const DEFAULT_SPARSE_BM25_OPTIONS = {
  k1: 1.2,
  b: 0.75,
  averageTextLength: 150,
  filenameWeight: 0.3,
  averageFilenameLength: 3,
} as const;

/**
 * Client-side half of BM25 for Qdrant. A chunk becomes a sparse vector whose dimensions are terms
 * (a stable 32-bit hash of the stemmed term) and whose values are BM25's saturated, length-normalised
 * term frequencies. The collection's sparse vector is configured with `modifier: "idf"`, so Qdrant
 * multiplies each query term by its inverse document frequency at search time, from statistics it
 * keeps up to date itself. The query is each distinct query term with weight 1, so the dot product
 * is BM25: Σ idf(t) · tf(t)·(k1+1) / (tf(t) + k1·(1 − b + b·len/avgLen)).
 *
 * The filename counts as a second field the BM25F way (weighted, length-normalised frequencies are
 * summed before saturation), like the embedded index.
 */
export class SparseBm25Encoder {
  private readonly k1: number;
  private readonly b: number;
  private readonly averageTextLength: number;
  private readonly filenameWeight: number;
  private readonly averageFilenameLength: number;
  private readonly tokenize: (text: string) => string[];

  constructor(options: SparseBm25Options = {}) {
    this.k1 = options.k1 ?? DEFAULT_SPARSE_BM25_OPTIONS.k1;
    this.b = options.b ?? DEFAULT_SPARSE_BM25_OPTIONS.b;
    this.averageTextLength = options.averageTextLength ?? DEFAULT_SPARSE_BM25_OPTIONS.averageTextLength;
    this.filenameWeight = options.filenameWeight ?? DEFAULT_SPARSE_BM25_OPTIONS.filenameWeight;
    this.averageFilenameLength = options.averageFilenameLength ?? DEFAULT_SPARSE_BM25_OPTIONS.averageFilenameLength;
    this.tokenize = options.tokenize ?? tokenize;
    if (
      !(this.k1 >= 0) ||
      !(this.b >= 0 && this.b <= 1) ||
      !(this.filenameWeight >= 0) ||
      !(this.averageTextLength > 0) ||
      !(this.averageFilenameLength > 0)
    ) {
      throw new RangeError('sparse BM25 needs k1 >= 0, 0 <= b <= 1, filenameWeight >= 0 and positive average lengths');
    }
  }

  /** The chunk's BM25 term weights (without IDF, which Qdrant applies); empty when nothing is indexable. */
  encodeDocument(text: string, filename = ''): SparseVector {
    const textTerms = termFrequencies(this.tokenize(text));
    const filenameTerms = termFrequencies(this.tokenize(stripExtension(filename)));
    const textLength = sum(textTerms.values());
    const filenameLength = sum(filenameTerms.values());
    const weights = new Map<number, number>();
    for (const term of new Set([...textTerms.keys(), ...filenameTerms.keys()])) {
      const frequency =
        normalisedFrequency(textTerms.get(term) ?? 0, textLength, this.averageTextLength, this.b) +
        this.filenameWeight *
          normalisedFrequency(filenameTerms.get(term) ?? 0, filenameLength, this.averageFilenameLength, this.b);
      if (frequency <= 0) continue;
      const saturated = (frequency * (this.k1 + 1)) / (frequency + this.k1);
      // Two terms hashing to one id (rare among 2^32 ids) share the dimension: Qdrant rejects
      // duplicate indices, and summing is what a hashed bag of words means anyway.
      const id = termId(term);
      weights.set(id, (weights.get(id) ?? 0) + saturated);
    }
    return toSparseVector(weights);
  }

  /** Each distinct query term with weight 1 (the embedded BM25 also scores each distinct term once). */
  encodeQuery(text: string): SparseVector {
    const weights = new Map<number, number>();
    for (const term of new Set(this.tokenize(text))) weights.set(termId(term), 1);
    return toSparseVector(weights);
  }
}

/**
 * Stable 32-bit id of a term: FNV-1a over its UTF-8 bytes. Stable across processes, platforms and
 * releases (no seed, no runtime hashing), because ids written today must match queries made years
 * later; changing it means re-indexing every collection.
 */
export function termId(term: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(term, 'utf8')) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

function toSparseVector(weights: Map<number, number>): SparseVector {
  const indices = [...weights.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((index) => weights.get(index) as number) };
}
