import { Inject, Injectable } from '@nestjs/common';
import { type CacheHandle, TieredCache, cacheKeys } from '@quarry/cache';
import { SearchChunksReply } from '@quarry/contracts';
import { CorpusVersions } from '@quarry/persistence';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { RetrievalConfig } from '../config';
import { IndexSynchronizer } from './index-synchronizer.service';
import type { SearchRequest } from './search.service';

/** What is kept of a search: the ranking and the index size it came from, not the time it took. */
const CachedSearch = SearchChunksReply.omit({ tookMs: true });
type CachedSearch = ReturnType<typeof CachedSearch.parse>;

/** A search looked up: a cached result, or the key to keep this one under (none: not cacheable now). */
export type SearchLookup = { state: 'hit'; result: CachedSearch } | { state: 'miss'; key: string; keepable: boolean } | { state: 'bypass' };

/**
 * Search results per tenant and corpus version (memory, then Redis, shared by replicas): a repeated
 * query whose answer was not cached (another topK, a conversation, another generator) skips the
 * search. An entry under version V was computed by an index that held every change up to V, so it
 * is at least as new as V. The protocol (SearchService):
 *  1. read the version (`versionBefore`; what this process knows, possibly behind);
 *  2. catch up with the feed; a tenant whose documents the catch-up changed is forgotten by the
 *     version cache, so
 *  3. the version read next (`lookup`) is at least that of every change committed before the
 *     search began — the key looked up;
 *  4. on a miss the result is kept only if both reads agree and the catch-up completed: a change
 *     announced in between (committed after the catch-up read the feed) would otherwise file a
 *     result that lacks it under its version.
 */
@Injectable()
export class SearchResultCache {
  private readonly results: CacheHandle<CachedSearch> | undefined;

  constructor(
    @Inject(TieredCache) cache: TieredCache,
    @Inject(CorpusVersions) private readonly versions: CorpusVersions,
    @Inject(SERVICE_CONFIG) config: Pick<RetrievalConfig, 'RETRIEVAL_CACHE_TTL_SECONDS'>,
    synchronizer: IndexSynchronizer,
  ) {
    const ttl = config.RETRIEVAL_CACHE_TTL_SECONDS * 1000;
    this.results =
      ttl === 0 ? undefined : cache.kind<CachedSearch>({ name: 'retrieval', tiers: ['memory', 'redis'], ttlMs: { memory: ttl, redis: ttl }, parse: (raw) => CachedSearch.parse(raw) });
    synchronizer.onTenantsChanged((tenants) => {
      for (const tenantId of tenants) versions.forget(tenantId);
    });
  }

  /** Step 1: the version as this process knows it now (undefined: unknown, or the cache is off). */
  async versionBefore(tenantId: string): Promise<string | undefined> {
    return this.results ? this.versions.current(tenantId).catch(() => undefined) : undefined;
  }

  /** Step 3, after the catch-up (`fresh`: it completed). */
  async lookup(request: SearchRequest, embeddingModel: string, versionBefore: string | undefined, fresh: boolean): Promise<SearchLookup> {
    if (!this.results) return { state: 'bypass' };
    let corpusVersion: string;
    try {
      corpusVersion = await this.versions.current(request.tenantId);
    } catch {
      return { state: 'bypass' }; // Postgres unreachable and the version never seen: search, keep nothing
    }
    const key = cacheKeys.retrieval({
      tenantId: request.tenantId,
      corpusVersion,
      query: request.query,
      filters: request.filters,
      topK: request.topK,
      mode: request.mode ?? 'hybrid',
      embedding: embeddingModel,
      options: { fusion: request.fusion ?? null, diversity: request.diversity ?? null, variants: request.variants ?? [] },
    });
    const result = await this.results.get(key);
    return result ? { state: 'hit', result } : { state: 'miss', key, keepable: fresh && versionBefore === corpusVersion };
  }

  keep(key: string, result: CachedSearch): void {
    // Not awaited: a slow or failing tier never holds up the reply.
    void this.results?.set(key, result);
  }
}
