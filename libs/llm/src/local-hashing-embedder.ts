import { tokenize } from '@quarry/domain';
import type { Embedder } from './embedder.port';
import { fnv1a32 } from './hashing';
import { l2Normalize } from './vector-math';

export const DEFAULT_LOCAL_EMBEDDING_DIMENSIONS = 384;

// Feature weights: whole terms carry the meaning; bigrams reward matching phrases; character trigrams
// of each stem give partial credit to spelling variants and compounds that stemming misses.
const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const CHAR_TRIGRAM_WEIGHT = 0.25;

// Independent seeds so the sign of a feature is uncorrelated with its bucket.
const BUCKET_SEED = 0;
const SIGN_SEED = 0x9e3779b9;

export interface LocalHashingEmbedderOptions {
  dimensions?: number;
}

/**
 * Deterministic embeddings without a model or network: the "hashing trick" over stemmed terms, word
 * bigrams and character trigrams. Each feature lands in one of `dimensions` buckets with a hashed sign
 * (so collisions cancel out on average instead of piling up), weighted by sublinear term frequency,
 * then the vector is L2-normalised. Lexical rather than semantic, but good enough to rank chunks that
 * share vocabulary with the question, and stable across processes and releases of this version.
 */
export class LocalHashingEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;

  constructor(options: LocalHashingEmbedderOptions = {}) {
    const dimensions = options.dimensions ?? DEFAULT_LOCAL_EMBEDDING_DIMENSIONS;
    if (!Number.isInteger(dimensions) || dimensions < 1) {
      throw new Error(`Local embedder dimensions must be a positive integer, got ${dimensions}`);
    }
    this.dimensions = dimensions;
    // The version and size are in the name because they define the vector space: a change to the
    // features must bump the version so old and new vectors are never mixed in one index.
    this.model = `local-hash-v1-${dimensions}`;
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    return Promise.resolve(texts.map((text) => this.embedOne(text)));
  }

  embedOne(text: string): Float32Array {
    const vector = new Float64Array(this.dimensions);
    for (const [feature, { weight, count }] of countFeatures(tokenize(text))) {
      const bucket = fnv1a32(feature, BUCKET_SEED) % this.dimensions;
      const sign = (fnv1a32(feature, SIGN_SEED) & 1) === 0 ? 1 : -1;
      vector[bucket] += sign * weight * (1 + Math.log(count));
    }
    return l2Normalize(vector);
  }
}

interface FeatureCount {
  weight: number;
  count: number;
}

function countFeatures(terms: string[]): Map<string, FeatureCount> {
  const features = new Map<string, FeatureCount>();
  const add = (feature: string, weight: number): void => {
    const existing = features.get(feature);
    if (existing) existing.count += 1;
    else features.set(feature, { weight, count: 1 });
  };
  // Prefixes keep the feature kinds apart: the unigram "ab" and the trigram "<ab" never share a hash.
  terms.forEach((term, position) => {
    add(`w:${term}`, UNIGRAM_WEIGHT);
    if (position > 0) add(`b:${terms[position - 1]} ${term}`, BIGRAM_WEIGHT);
    const padded = `<${term}>`;
    for (let start = 0; start + 3 <= padded.length; start++) add(`c:${padded.slice(start, start + 3)}`, CHAR_TRIGRAM_WEIGHT);
  });
  return features;
}
