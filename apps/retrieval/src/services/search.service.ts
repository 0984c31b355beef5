import { Injectable } from '@nestjs/common';
import type { SearchChunksReply } from '@quarry/contracts';
import type { FusionOptions, RetrievalMode, SearchFilters } from '@quarry/search';
import { IndexSynchronizer } from './index-synchronizer.service';

/** Hybrid search for one tenant: catch up with Postgres, embed the query, ask the index. */
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
  }): Promise<SearchChunksReply> {
    const started = performance.now();
    // Index and embedder are taken together: an embedding-version switch swaps both at once.
    const { index, embedder } = this.synchronizer.served;
    const embedding = request.mode === 'lexical' ? Promise.resolve([new Float32Array(0)]) : embedder.embed([request.query]);
    const [[vector]] = await Promise.all([embedding, this.synchronizer.catchUp()]);
    const hits = await index.search({
      tenantId: request.tenantId,
      text: request.query,
      vector,
      topK: request.topK,
      filters: request.filters,
      mode: request.mode,
      fusion: request.fusion,
      diversity: request.diversity,
    });
    return { hits, tookMs: performance.now() - started, indexedChunks: index.stats().chunks };
  }
}
