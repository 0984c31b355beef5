import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { createEmbedder, embedderConfigFromEnv } from '@quarry/llm';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import { DocumentChunker } from './chunking/document-chunker';
import { TokenCounter } from './chunking/token-counter';
import type { IngestionConfig } from './config';
import { IngestDocumentJob } from './jobs/ingest-document.job';
import { IngestionPipeline } from './services/ingestion-pipeline.service';
import { DOCUMENT_CHUNKER, EMBEDDER } from './tokens';

const TOKEN_COUNTER = Symbol('TOKEN_COUNTER');

@Module({
  controllers: [IngestDocumentJob],
  providers: [
    IngestionPipeline,
    { provide: TOKEN_COUNTER, useFactory: () => new TokenCounter() },
    {
      provide: DOCUMENT_CHUNKER,
      inject: [SERVICE_CONFIG, TOKEN_COUNTER],
      useFactory: (config: IngestionConfig, tokens: TokenCounter) =>
        new DocumentChunker(tokens, { chunkSizeTokens: config.CHUNK_SIZE_TOKENS, chunkOverlapTokens: config.CHUNK_OVERLAP_TOKENS }),
    },
    { provide: EMBEDDER, inject: [SERVICE_CONFIG], useFactory: (config: IngestionConfig) => createEmbedder(embedderConfigFromEnv(config)) },
  ],
})
export class IngestionModule implements OnApplicationShutdown {
  constructor(@Inject(TOKEN_COUNTER) private readonly tokens: TokenCounter) {}

  onApplicationShutdown(): void {
    this.tokens.dispose();
  }
}
