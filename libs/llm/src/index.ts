export type { Embedder } from './embedder.port';
export type { AnswerGenerator, GeneratedAnswer, Passage } from './answer-generator.port';
export type { CompletionCache, CompletionRequest } from './completion-cache.port';
export { NO_ANSWER_TEXT } from './no-answer';
export { l2Normalize, dotProduct } from './vector-math';
export { LocalHashingEmbedder, DEFAULT_LOCAL_EMBEDDING_DIMENSIONS, type LocalHashingEmbedderOptions } from './local-hashing-embedder';
export { OpenAiEmbedder, DEFAULT_EMBEDDING_BATCH_SIZE, DEFAULT_EMBEDDING_TIMEOUT_MS, type OpenAiEmbedderOptions } from './openai-embedder';
export { ExtractiveAnswerGenerator, EXTRACTIVE_MODEL_NAME } from './extractive-answer-generator';
export {
  OpenAiChatGenerator,
  DEFAULT_ANSWER_MAX_TOKENS,
  DEFAULT_LLM_TIMEOUT_MS,
  type OpenAiChatGeneratorOptions,
  type ChatUsage,
  type ChatUsageListener,
} from './openai-chat-generator';
export { UNTRUSTED_DATA_RULE, formatPassages, neutraliseMarkup, quoteAsData, quoteAttribute } from './quoted-data';
export { GROUNDED_ANSWER_SYSTEM_PROMPT, buildGroundedAnswerMessages, type ChatMessage } from './chat-prompt';
export { parseCitedPassageIndexes } from './citations';
export { splitIntoSentences, truncateAtWord } from './sentences';
export { MAX_CITATION_NUMBER, MIN_SUPPORT_SHARE, type SentenceSupportOptions, type SupportPassage, passagesOfCitations, sentenceSupport, supportedShare } from './sentence-support';
export { LlmEndpointError, toEndpointError, type EndpointErrorContext } from './endpoint-error';
export { OPENAI_DEFAULT_BASE_URL, createOpenAiClient, trimTrailingSlashes, type OpenAiEndpointOptions } from './openai-client';
export {
  createEmbedder,
  createAnswerGenerator,
  embedderForVersion,
  type EmbeddingVersionSpec,
  isLlmConfigured,
  DEFAULT_OPENAI_EMBEDDING_MODEL,
  DEFAULT_OPENAI_EMBEDDING_DIMENSIONS,
  type EmbedderConfig,
  type AnswerGeneratorConfig,
} from './providers';
export { embedderConfigFromEnv, answerGeneratorConfigFromEnv } from './providers-from-env';
export { OpenAiDocumentAnalyzer, parseModelAnalysis, type ModelDocumentAnalysis } from './document-analyzer';
export { ContextPacker, type ContextPackerOptions, type PackingOptions, type PackingStrategy, type PackedContext } from './context/pack-context';
export { PassageMeasures, type PassageMeasure, DEFAULT_MEASURED_PASSAGES } from './context/passage-measures';
export { OpenAiQueryRewriter, QUERY_REWRITE_SYSTEM_PROMPT, parseRephrasings, type QueryRewriter } from './query-rewriter';
