import { LRUCache } from 'lru-cache';
import { fnv1a, shingleHashes } from './near-duplicates';

/** What packing needs to know of a passage: its length in tokens and its shingles (hashed, sorted). */
export interface PassageMeasure {
  tokens: number;
  shingles: Uint32Array;
}

interface Entry {
  length: number;
  hash: number;
  measure: PassageMeasure;
}

/** The default bound: about 1.5 KB a passage of 300 words, so some 15 MB when full. */
export const DEFAULT_MEASURED_PASSAGES = 10_000;

/**
 * Token counts and shingles of passages, computed once per chunk instead of on every query that
 * retrieves it (tokenizing and shingling a passage costs far more than packing it). Bounded (LRU);
 * keyed by chunk id and checked against the text's length and FNV-1a hash, so a chunk whose text
 * changed (re-ingested under the same id) is measured again.
 */
export class PassageMeasures {
  private readonly cache: LRUCache<string, Entry>;
  private computed = 0;
  private reused = 0;

  constructor(
    private readonly countTokens: (text: string) => number,
    maxEntries = DEFAULT_MEASURED_PASSAGES,
  ) {
    this.cache = new LRUCache<string, Entry>({ max: maxEntries });
  }

  of(chunkId: string, text: string): PassageMeasure {
    const hash = fnv1a(text);
    const entry = this.cache.get(chunkId);
    if (entry && entry.length === text.length && entry.hash === hash) {
      this.reused++;
      return entry.measure;
    }
    this.computed++;
    const measure = { tokens: this.countTokens(text), shingles: shingleHashes(text) };
    this.cache.set(chunkId, { length: text.length, hash, measure });
    return measure;
  }

  /** How many measures were computed and how many were reused (tests, diagnostics). */
  get stats(): { computed: number; reused: number; size: number } {
    return { computed: this.computed, reused: this.reused, size: this.cache.size };
  }
}
