import { Inject, Injectable } from '@nestjs/common';
import { type CacheHandle, TieredCache, cacheKeys } from '@quarry/cache';
import { type Embedder, LocalHashingEmbedder } from '@quarry/llm';
import { bytesToVector, vectorToBytes } from '@quarry/persistence';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { RetrievalConfig } from '../config';

// Vectors are kept as float32 bytes (the same encoding as the bytea columns): MessagePack carries them to Redis without widening them to float64.
function parseBytes(raw: unknown): Uint8Array {
  if (!(raw instanceof Uint8Array) || raw.byteLength % 4 !== 0) throw new TypeError('a cached query vector is float32 bytes');
  return raw;
}

/**
 * Query vectors, content-addressed by model, dimensions and normalised text (not tenant-bound: a
 * vector is a function of those alone). Where a vector is kept depends on what it costs to make:
 * the local embedder takes ~15 µs per question, more than an L1 hit (~2.5 µs) but far less than a
 * Redis round trip (~130 µs), so its vectors stay in memory only; a remote embedder's HTTP call
 * costs milliseconds, so its vectors are shared through Redis by every replica.
 */
@Injectable()
export class QueryEmbeddingCache {
  private readonly local: CacheHandle<Uint8Array> | undefined;
  private readonly remote: CacheHandle<Uint8Array> | undefined;

  constructor(@Inject(TieredCache) cache: TieredCache, @Inject(SERVICE_CONFIG) config: Pick<RetrievalConfig, 'QUERY_EMBEDDING_CACHE_TTL_SECONDS'>) {
    const ttl = config.QUERY_EMBEDDING_CACHE_TTL_SECONDS * 1000;
    if (ttl === 0) return;
    this.local = cache.kind<Uint8Array>({ name: 'query-embedding-local', tiers: ['memory'], ttlMs: { memory: ttl }, sizeOf: (bytes) => bytes.byteLength });
    this.remote = cache.kind<Uint8Array>({
      name: 'query-embedding',
      tiers: ['memory', 'redis'],
      ttlMs: { memory: ttl, redis: ttl },
      parse: parseBytes,
      sizeOf: (bytes) => bytes.byteLength,
    });
  }

  /** One vector per text, in order: cached ones looked up, the rest embedded in one call and kept. */
  async embed(embedder: Embedder, texts: string[]): Promise<Float32Array[]> {
    const kind = embedder instanceof LocalHashingEmbedder ? this.local : this.remote;
    if (!kind) return embedder.embed(texts);
    const keys = texts.map((text) => cacheKeys.queryEmbedding({ model: embedder.model, dimensions: embedder.dimensions, text }));
    const found = await Promise.all(keys.map((key) => kind.get(key)));
    const vectors: Array<Float32Array | undefined> = found.map((bytes) => (bytes && bytes.byteLength === embedder.dimensions * 4 ? bytesToVector(bytes) : undefined));
    const missing = vectors.flatMap((vector, position) => (vector ? [] : [position]));
    if (missing.length > 0) {
      const embedded = await embedder.embed(missing.map((position) => texts[position]));
      missing.forEach((position, index) => {
        vectors[position] = embedded[index];
        // Not awaited: a slow or failing tier never holds up the search.
        void kind.set(keys[position], vectorToBytes(embedded[index]));
      });
    }
    return vectors as Float32Array[];
  }
}
