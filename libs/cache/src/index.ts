export { cacheKeys, normaliseQuestion, normaliseText, shortHash, stableStringify } from './keys';
export { TieredCache } from './tiered-cache';
export type {
  CacheHandle,
  CacheKindOptions,
  CacheKindStats,
  CacheLogger,
  CacheStatsReport,
  CacheTierName,
  CacheTierStats,
  LatencySummary,
  TierHealth,
  TierState,
  TieredCacheOptions,
} from './types';
export { type AnswerQuestion, CachedAnswer, DEFAULT_ANSWER_TOP_K, answerKey, answerKind } from './kinds/answer-kind';
