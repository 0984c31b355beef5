import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type AnswerQuestion, type CacheHandle, type CachedAnswer, TieredCache, answerKey, answerKind } from '@quarry/cache';
import { JobName } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { CorpusVersions } from '@quarry/persistence';
import { JOB_CLIENT, LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import type { GatewayConfig } from '../config';
import type { QueryReply } from '../query/query.schemas';

/** The question as it is looked up. */
export interface AnswerLookup extends AnswerQuestion {
  conversationId?: string;
}

/** A looked-up question: a cached answer, or where to put the agent's. */
export type AnswerCacheOutcome =
  | { state: 'hit'; reply: CachedAnswer }
  | { state: 'miss'; corpusVersion: string }
  /** Not cacheable: a conversation continues, the cache is off, or the corpus version is unknown. */
  | { state: 'bypass' };

// Generated answers are small; a long one is not worth holding in memory many times over.
const MAX_CACHED_ANSWER_BYTES = 64 * 1024;

/**
 * Answers to questions the tenant asked before, served by the gateway without a queue hop. The key
 * holds the tenant, its corpus version (so an index change makes every earlier answer unreachable
 * at once, on every replica: each listens for versions), the normalised question, filters and topK,
 * and the generator that wrote the answer. A question that continues a conversation is never
 * cached: its answer depends on the exchanges before it.
 *
 * Which generator answers is the agent's configuration, not the gateway's: a cached answer keeps the
 * generator that wrote it, and a gateway that has seen the agent answer with another one since
 * treats it as a miss (and the fresh answer replaces it). A replica that has not seen an answer yet
 * takes what it finds; ANSWER_CACHE_TTL_SECONDS bounds what a model change leaves behind.
 */
@Injectable()
export class AnswerCache {
  private readonly answers: CacheHandle<CachedAnswer> | undefined;
  /** The generator of the last answer the agent gave this gateway (undefined until one came). */
  private generator: string | undefined;

  constructor(
    @Inject(TieredCache) cache: TieredCache,
    @Inject(CorpusVersions) private readonly versions: CorpusVersions,
    @Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'ANSWER_CACHE_TTL_SECONDS'>,
    @Inject(JOB_CLIENT) jobs: JobClient,
    @Inject(LOGGER) logger: Logger,
  ) {
    const ttl = config.ANSWER_CACHE_TTL_SECONDS * 1000;
    this.answers = ttl === 0 ? undefined : answerKind(cache, ttl);
    // A cold answer cache is warmed by the task-scheduler (cache.warm tasks for the tenants asking lately).
    cache.onLowHitRate(({ kind, hitRate }) => {
      if (kind !== this.answers?.name) return;
      jobs.publish(JobName.WarmAnswerCaches, { trigger: 'low-hit-rate', kind, hitRate }).catch((error: unknown) =>
        logger.warn('could not ask the task-scheduler to warm the answer cache', { error: (error as Error).message }),
      );
    });
  }

  async lookup(tenantId: string, request: AnswerLookup): Promise<AnswerCacheOutcome> {
    if (!this.answers || request.conversationId !== undefined) return { state: 'bypass' };
    let corpusVersion: string;
    try {
      corpusVersion = await this.versions.current(tenantId);
    } catch {
      // Postgres unreachable and this tenant's version never seen: nothing can be vouched for.
      return { state: 'bypass' };
    }
    const cached = await this.answers.get(answerKey(tenantId, corpusVersion, request));
    const current = cached && (this.generator === undefined || cached.generator === this.generator);
    return current ? { state: 'hit', reply: cached } : { state: 'miss', corpusVersion };
  }

  /**
   * Keeps the agent's answer under the corpus version read before it was asked: if the corpus
   * changed meanwhile, the answer is filed under the old version and never served.
   */
  remember(tenantId: string, request: AnswerLookup, corpusVersion: string, reply: QueryReply): void {
    this.generator = reply.generator;
    if (!this.answers) return;
    const value: CachedAnswer = { answer: reply.answer, citations: reply.citations, generator: reply.generator };
    if (JSON.stringify(value).length > MAX_CACHED_ANSWER_BYTES) return;
    // Not awaited: the cache never holds up the answer (a failing tier is skipped and counted).
    void this.answers.set(answerKey(tenantId, corpusVersion, request), value);
  }

  /** A cached answer as a reply of its own: a new conversation, and the gateway's own time. */
  static reply(cached: CachedAnswer, totalMs: number): QueryReply {
    return { ...cached, conversationId: randomUUID(), timings: { retrievalMs: 0, generationMs: 0, totalMs } };
  }
}
