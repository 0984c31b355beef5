import { createHash } from 'node:crypto';
import type { Embedder } from '@quarry/llm';
import type { EmbeddingCacheRepository } from '@quarry/persistence';
import { LRUCache } from 'lru-cache';

function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * An embedder that never embeds the same text twice for the same model: an in-process LRU in front
 * of the Postgres cache (shared by all ingestion replicas), then the real embedder for the misses.
 */
export class CachedEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  private readonly memory = new LRUCache<string, Float32Array>({ max: 20_000 });
  hits = 0;
  misses = 0;

  constructor(
    private readonly inner: Embedder,
    private readonly store: EmbeddingCacheRepository,
  ) {
    this.model = inner.model;
    this.dimensions = inner.dimensions;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const hashes = texts.map(contentHash);
    const found = new Map<string, Float32Array>();
    for (const hash of hashes) {
      const vector = this.memory.get(hash);
      if (vector) found.set(hash, vector);
    }
    const notInMemory = [...new Set(hashes.filter((hash) => !found.has(hash)))];
    for (const [hash, vector] of await this.store.getMany(this.model, notInMemory)) {
      found.set(hash, vector);
      this.memory.set(hash, vector);
    }
    const missing = [...new Set(hashes.filter((hash) => !found.has(hash)))];
    this.hits += hashes.length - missing.length;
    this.misses += missing.length;
    if (missing.length > 0) {
      const textOf = new Map(hashes.map((hash, index) => [hash, texts[index]]));
      const vectors = await this.inner.embed(missing.map((hash) => textOf.get(hash) as string));
      const entries = missing.map((hash, index) => ({ contentSha256: hash, vector: vectors[index] }));
      await this.store.putMany(this.model, entries);
      for (const entry of entries) {
        found.set(entry.contentSha256, entry.vector);
        this.memory.set(entry.contentSha256, entry.vector);
      }
    }
    return hashes.map((hash) => found.get(hash) as Float32Array);
  }
}
