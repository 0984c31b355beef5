import { Module } from '@nestjs/common';
import { createEmbedder, embedderConfigFromEnv } from '@quarry/llm';
import { InMemoryHybridIndex, qdrantSearchIndexFromEnv } from '@quarry/search';
import { ConfigError } from '@quarry/config';
import { SERVICE_CONFIG, ServiceCacheModule, modelDeepHealth } from '@quarry/service-kit';
import type { RetrievalConfig } from './config';
import { SearchChunksJob } from './jobs/search-chunks.job';
import { retrievalDeepHealth } from './services/index-health';
import { IndexSynchronizer, type SearchIndexFactory } from './services/index-synchronizer.service';
import { QueryEmbeddingCache } from './services/query-embedding-cache';
import { SearchResultCache } from './services/search-result-cache';
import { SearchService } from './services/search.service';
import { QUERY_EMBEDDER, SEARCH_INDEX_FACTORY } from './tokens';

@Module({
  imports: [ServiceCacheModule.forService('retrieval')],
  controllers: [SearchChunksJob],
  providers: [
    SearchService,
    QueryEmbeddingCache,
    SearchResultCache,
    IndexSynchronizer,
    modelDeepHealth(['embeddings']),
    retrievalDeepHealth,
    {
      provide: SEARCH_INDEX_FACTORY,
      inject: [SERVICE_CONFIG],
      useFactory: (config: RetrievalConfig): SearchIndexFactory => {
        switch (config.VECTOR_BACKEND) {
          case 'embedded':
            return () => new InMemoryHybridIndex();
          case 'qdrant':
            if (!config.QDRANT_URL) throw new ConfigError('VECTOR_BACKEND=qdrant needs QDRANT_URL (see README, Configuration)');
            // One collection per embedding model and dimension, so a re-embedding builds a new one.
            return (embedder) => qdrantSearchIndexFromEnv(config, embedder);
        }
      },
    },
    {
      provide: QUERY_EMBEDDER,
      inject: [SERVICE_CONFIG],
      useFactory: (config: RetrievalConfig) => createEmbedder(embedderConfigFromEnv(config)),
    },
  ],
})
export class RetrievalModule {}
