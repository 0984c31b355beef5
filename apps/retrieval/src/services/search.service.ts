import { Injectable } from '@nestjs/common';
import type { SearchChunksReply } from '@quarry/contracts';
import { type FusionOptions, type RetrievalMode, type SearchFilters, fuseVariantRankings, variantSearchDepth } from '@quarry/search';
import { IndexSynchronizer } from './index-synchronizer.service';

/** Hybrid search for one tenant: catch up with Postgres (bounded), embed the query, ask the index. */
@Injectable()
export class SearchService {
  constructor(private readonly synchronizer: IndexSynchronizer) {}

  async search(request: {
    tenantId: string;
    query: string;
    topK: number;
    filters?: SearchFilters;
    mode?: RetrievalMode;
    fusion?: FusionOptions;
    diversity?: { lambda: number };
    variants?: string[];
  }): Promise<SearchChunksReply> {
    const started = performance.now();
    // Index and embedder are taken together: an embedding-version switch swaps both at once.
    const { index, embedder } = this.synchronizer.served;
    const phrasings = [request.query, ...(request.variants ?? [])];
    // One embedding call for all phrasings: a remote embedder batches them in one HTTP request.
    const embedding = request.mode === 'lexical' ? Promise.resolve(phrasings.map(() => new Float32Array(0))) : embedder.embed(phrasings);
    // Read-your-writes, bounded: never a reason for a search to fail or to hang on Postgres.
    const [vectors] = await Promise.all([embedding, this.synchronizer.awaitFreshness()]);
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
    return { hits, tookMs: performance.now() - started, indexedChunks: index.stats().chunks };
  }
}
