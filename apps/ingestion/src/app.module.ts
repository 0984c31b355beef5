import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { OpenAiDocumentAnalyzer, createEmbedder, embedderConfigFromEnv, isLlmConfigured } from '@quarry/llm';
import { shutdownParsers } from '@quarry/parsers';
import { type DataSource, EmbeddingCacheRepository } from '@quarry/persistence';
import { DATA_SOURCE, SERVICE_CONFIG } from '@quarry/service-kit';
import { DocumentChunker } from './chunking/document-chunker';
import { TokenCounter } from './chunking/token-counter';
import type { IngestionConfig } from './config';
import { CachedEmbedder } from './embedding/cached-embedder';
import { AnalyzeDocumentJob } from './jobs/analyze-document.job';
import { IsolatedDocumentParser } from './parsing/isolated-document-parser';
import { StageJobs } from './pipeline/stage-jobs';
import { StageRunner } from './pipeline/stage-runner.service';
import { ChunkStage } from './stages/chunk.stage';
import { EmbedStage } from './stages/embed.stage';
import { IndexStage } from './stages/index.stage';
import { ParseStage } from './stages/parse.stage';
import { DOCUMENT_ANALYZER, DOCUMENT_CHUNKER, DOCUMENT_PARSER, EMBEDDER, INLINE_STEPS_MAX_BYTES, MODEL_ANALYSIS_ENABLED } from './tokens';

const TOKEN_COUNTER = Symbol('TOKEN_COUNTER');

@Module({
  controllers: [StageJobs, AnalyzeDocumentJob],
  providers: [
    StageRunner,
    ParseStage,
    ChunkStage,
    EmbedStage,
    IndexStage,
    { provide: TOKEN_COUNTER, useFactory: () => new TokenCounter() },
    { provide: INLINE_STEPS_MAX_BYTES, inject: [SERVICE_CONFIG], useFactory: (config: IngestionConfig) => config.INLINE_STEPS_MAX_BYTES },
    {
      provide: DOCUMENT_PARSER,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IngestionConfig) =>
        new IsolatedDocumentParser({
          timeoutMs: config.PARSE_TIMEOUT_MS,
          maxHeapMb: config.PARSE_MAX_HEAP_MB,
          maxDecompressedBytes: config.PARSE_MAX_DECOMPRESSED_BYTES,
        }),
    },
    {
      provide: DOCUMENT_CHUNKER,
      inject: [SERVICE_CONFIG, TOKEN_COUNTER],
      useFactory: (config: IngestionConfig, tokens: TokenCounter) =>
        new DocumentChunker(tokens, { chunkSizeTokens: config.CHUNK_SIZE_TOKENS, chunkOverlapTokens: config.CHUNK_OVERLAP_TOKENS }),
    },
    {
      provide: EMBEDDER,
      inject: [SERVICE_CONFIG, DATA_SOURCE],
      useFactory: (config: IngestionConfig, dataSource: DataSource) => {
        const embedder = createEmbedder(embedderConfigFromEnv(config));
        // A model endpoint is slow and may cost money: cache its vectors. The local embedder computes a
        // vector faster than the cache could look one up, so it runs uncached.
        return config.EMBEDDING_PROVIDER === 'local' ? embedder : new CachedEmbedder(embedder, new EmbeddingCacheRepository(dataSource));
      },
    },
    {
      provide: MODEL_ANALYSIS_ENABLED,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IngestionConfig) => isLlmConfigured({ baseUrl: config.LLM_BASE_URL, model: config.LLM_MODEL }),
    },
    {
      provide: DOCUMENT_ANALYZER,
      inject: [SERVICE_CONFIG],
      useFactory: (config: IngestionConfig) => {
        const llm = { baseUrl: config.LLM_BASE_URL, model: config.LLM_MODEL };
        return isLlmConfigured(llm) ? new OpenAiDocumentAnalyzer({ ...llm, apiKey: config.LLM_API_KEY, timeoutMs: config.LLM_TIMEOUT_MS }) : null;
      },
    },
  ],
})
export class IngestionModule implements OnApplicationShutdown {
  constructor(@Inject(TOKEN_COUNTER) private readonly tokens: TokenCounter) {}

  async onApplicationShutdown(): Promise<void> {
    this.tokens.dispose();
    await shutdownParsers();
  }
}
