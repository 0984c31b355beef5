import { AnswerQuestionReply } from '@quarry/contracts';
import { cacheKeys } from '../keys';
import type { TieredCache } from '../tiered-cache';
import type { CacheHandle } from '../types';

/** What is kept of an answer: what the agent said and cited, not the exchange's own id or timings. */
export const CachedAnswer = AnswerQuestionReply.pick({ answer: true, citations: true, generator: true });
export type CachedAnswer = ReturnType<typeof CachedAnswer.parse>;

/** The question as it is looked up, with the defaults the agent applies filled in by answerKey. */
export interface AnswerQuestion {
  question: string;
  filters?: unknown;
  topK?: number;
  maxRefinements?: number;
}

/** The agent's topK when a request names none: a request that leaves it out shares the key of one that says 6. */
export const DEFAULT_ANSWER_TOP_K = 6;

/**
 * The answer kind, one definition for every service that reads or writes it (the gateway serves
 * and fills it, the agent's warming job fills it): every tier, one TTL, values validated on the way
 * back from Redis and Postgres.
 */
export function answerKind(cache: TieredCache, ttlMs: number): CacheHandle<CachedAnswer> {
  return cache.kind<CachedAnswer>({
    name: 'answer',
    tiers: ['memory', 'redis', 'postgres'],
    ttlMs: { memory: ttlMs, redis: ttlMs, postgres: ttlMs },
    parse: (raw) => CachedAnswer.parse(raw),
  });
}

/**
 * The key of a question's answer under a corpus version. The generator is checked on the value
 * (see the gateway's AnswerCache), so every service finds the same key whatever it knows of the
 * agent's configuration.
 */
export function answerKey(tenantId: string, corpusVersion: string, question: AnswerQuestion): string {
  return cacheKeys.answer({
    tenantId,
    corpusVersion,
    question: question.question,
    filters: question.filters ?? {},
    topK: question.topK ?? DEFAULT_ANSWER_TOP_K,
    maxRefinements: question.maxRefinements,
    generator: 'agent',
  });
}
