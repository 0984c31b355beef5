import { Module } from '@nestjs/common';
import { createEmbedder, embedderConfigFromEnv } from '@quarry/llm';
import { InMemoryHybridIndex } from '@quarry/search';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { RetrievalConfig } from './config';
import { SearchChunksJob } from './jobs/search-chunks.job';
import { IndexSynchronizer } from './services/index-synchronizer.service';
import { SearchService } from './services/search.service';
import { QUERY_EMBEDDER, SEARCH_INDEX_FACTORY } from './tokens';

@Module({
  controllers: [SearchChunksJob],
  providers: [
    SearchService,
    IndexSynchronizer,
    {
      provide: SEARCH_INDEX_FACTORY,
      inject: [SERVICE_CONFIG],
      useFactory: (config: RetrievalConfig) => {
        if (config.VECTOR_BACKEND !== 'embedded') {
          throw new Error(`VECTOR_BACKEND=${config.VECTOR_BACKEND} is not available in this version; use "embedded"`);
        }
        return () => new InMemoryHybridIndex();
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
