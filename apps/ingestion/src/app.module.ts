import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { OpenAiDocumentAnalyzer, isLlmConfigured } from '@quarry/llm';
import { shutdownParsers } from '@quarry/parsers';
import { SERVICE_CONFIG, modelDeepHealth } from '@quarry/service-kit';
import { DocumentChunker } from './chunking/document-chunker';
import { TokenCounter } from './chunking/token-counter';
import type { IngestionConfig } from './config';
import { EmbeddingTargetsService, createVersionEmbedder } from './embedding/embedding-targets.service';
import { ModelAnalysis } from './analysis/model-analysis.service';
import { AnalyzeDocumentJob } from './jobs/analyze-document.job';
import { ReanalyzeDocumentJob } from './jobs/reanalyze-document.job';
import { ReembedCorpusJob } from './jobs/reembed-corpus.job';
import { IsolatedDocumentParser } from './parsing/isolated-document-parser';
import { StageJobs } from './pipeline/stage-jobs';
import { StageRunner } from './pipeline/stage-runner.service';
import { ChunkStage } from './stages/chunk.stage';
import { EmbedStage } from './stages/embed.stage';
import { IndexStage } from './stages/index.stage';
import { ParseStage } from './stages/parse.stage';
import { DOCUMENT_ANALYZER, DOCUMENT_CHUNKER, DOCUMENT_PARSER, EMBEDDER_FACTORY, INLINE_STEPS_MAX_BYTES, MODEL_ANALYSIS_ENABLED } from './tokens';

const TOKEN_COUNTER = Symbol('TOKEN_COUNTER');

@Module({
  controllers: [StageJobs, AnalyzeDocumentJob, ReanalyzeDocumentJob, ReembedCorpusJob],
  providers: [
    // Deep health: the chat model (document analysis) and embeddings when configured; its own worker is checked by the kit.
    modelDeepHealth(['llm', 'embeddings']),
    ModelAnalysis,
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
    EmbeddingTargetsService,
    { provide: EMBEDDER_FACTORY, useValue: createVersionEmbedder },
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
