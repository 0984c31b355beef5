import { Inject, Injectable } from '@nestjs/common';
import type { SearchChunksReply } from '@quarry/contracts';
import type { Embedder } from '@quarry/llm';
import { type FusionOptions, type RetrievalMode, SEARCH_INDEX, type SearchFilters, type SearchIndex } from '@quarry/search';
import { QUERY_EMBEDDER } from '../tokens';
import { IndexSynchronizer } from './index-synchronizer.service';

/** Hybrid search for one tenant: catch up with Postgres, embed the query, ask the index. */
@Injectable()
export class SearchService {
  constructor(
    @Inject(SEARCH_INDEX) private readonly index: SearchIndex,
    @Inject(QUERY_EMBEDDER) private readonly embedder: Embedder,
    private readonly synchronizer: IndexSynchronizer,
  ) {}

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
    const embedding = request.mode === 'lexical' ? Promise.resolve([new Float32Array(0)]) : this.embedder.embed([request.query]);
    const [[vector]] = await Promise.all([embedding, this.synchronizer.catchUp()]);
    const hits = await this.index.search({
      tenantId: request.tenantId,
      text: request.query,
      vector,
      topK: request.topK,
      filters: request.filters,
      mode: request.mode,
      fusion: request.fusion,
      diversity: request.diversity,
    });
    return { hits, tookMs: performance.now() - started, indexedChunks: this.index.stats().chunks };
  }
}
