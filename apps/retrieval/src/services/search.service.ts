import { Injectable } from '@nestjs/common';
import type { SearchChunksReply } from '@quarry/contracts';
import { type FusionOptions, type RetrievalMode, type SearchFilters, fuseVariantRankings, variantSearchDepth } from '@quarry/search';
import { IndexSynchronizer } from './index-synchronizer.service';
import { QueryEmbeddingCache } from './query-embedding-cache';
import { SearchResultCache } from './search-result-cache';

export interface SearchRequest {
  tenantId: string;
  query: string;
  topK: number;
  filters?: SearchFilters;
  mode?: RetrievalMode;
  fusion?: FusionOptions;
  diversity?: { lambda: number };
  variants?: string[];
}

/**
 * Hybrid search for one tenant: catch up with Postgres (bounded), then a cached result of the same
 * search under the tenant's current corpus version, or embed the query (cached vectors first), ask
 * the index, and keep the result when it is known to be as new as that version.
 */
@Injectable()
export class SearchService {
  constructor(
    private readonly synchronizer: IndexSynchronizer,
    private readonly queryEmbeddings: QueryEmbeddingCache,
    private readonly results: SearchResultCache,
  ) {}

  async search(request: SearchRequest): Promise<SearchChunksReply> {
    const started = performance.now();
    // Index and embedder are taken together: an embedding-version switch swaps both at once.
    const { index, embedder } = this.synchronizer.served;
    // The cache protocol's steps are explained at SearchResultCache.
    const versionBefore = await this.results.versionBefore(request.tenantId);
    // Read-your-writes, bounded: never a reason for a search to fail or to hang on Postgres.
    const fresh = await this.synchronizer.awaitFreshness();
    const cached = await this.results.lookup(request, embedder.model, versionBefore, fresh);
    if (cached.state === 'hit') return { ...cached.result, tookMs: performance.now() - started };
    const phrasings = [request.query, ...(request.variants ?? [])];
    // One embedding call for all phrasings: a remote embedder batches them in one HTTP request.
    const vectors = request.mode === 'lexical' ? phrasings.map(() => new Float32Array(0)) : await this.queryEmbeddings.embed(embedder, phrasings);
    const depth = phrasings.length > 1 ? variantSearchDepth(request.topK) : request.topK;
    const rankings = await Promise.all(
      phrasings.map(async (text, position) =>
        index.search({
          tenantId: request.tenantId,
          text,
          vector: vectors[position],
          topK: depth,
          filters: request.filters,
          mode: request.mode,
          fusion: request.fusion,
          diversity: request.diversity,
        }),
      ),
    );
    const hits = rankings.length > 1 ? fuseVariantRankings(rankings, request.topK) : rankings[0];
    const result = { hits, indexedChunks: index.stats().chunks };
    if (cached.state === 'miss' && cached.keepable && this.synchronizer.served.index === index) this.results.keep(cached.key, result);
    return { ...result, tookMs: performance.now() - started };
  }
}
