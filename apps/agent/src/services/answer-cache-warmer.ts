import { Inject, Injectable } from '@nestjs/common';
import { type CacheHandle, type CachedAnswer, DEFAULT_ANSWER_TOP_K, TieredCache, answerKey, answerKind, normaliseQuestion } from '@quarry/cache';
import type { PayloadOf, WarmAnswersResult } from '@quarry/contracts';
import type { JobName } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { CorpusVersions, type DataSource, QueryLogRepository } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { AgentConfig } from '../config';
import { AnswerService } from './answer.service';

// Two at a time: warming shares the agent with live questions and must not crowd them out.
const WARMING_CONCURRENCY = 2;

/**
 * Answers a tenant's most asked questions into the answer cache (the same kind and keys the
 * gateway reads), under the corpus version read just before each is answered — so an index change
 * during a warming files the answers before it under the old version, where nobody finds them.
 * Questions folded to one by the answer key's normalisation are one question; those already cached
 * under the current version are skipped, which makes a repeated warming cheap.
 */
@Injectable()
export class AnswerCacheWarmer {
  private readonly answers: CacheHandle<CachedAnswer> | undefined;
  private readonly queryLog: QueryLogRepository;

  constructor(
    @Inject(TieredCache) cache: TieredCache,
    @Inject(CorpusVersions) private readonly versions: CorpusVersions,
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(SERVICE_CONFIG) config: Pick<AgentConfig, 'ANSWER_CACHE_TTL_SECONDS'>,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly answerService: AnswerService,
  ) {
    const ttl = config.ANSWER_CACHE_TTL_SECONDS * 1000;
    this.answers = ttl === 0 ? undefined : answerKind(cache, ttl);
    this.queryLog = new QueryLogRepository(dataSource);
  }

  async warm(request: PayloadOf<typeof JobName.WarmAnswers>): Promise<WarmAnswersResult> {
    const questions = await this.topQuestions(request.tenantId, request.topN, request.sinceDays);
    const result: WarmAnswersResult = { questions: questions.length, warmed: 0, alreadyCached: 0, failed: 0, corpusVersion: await this.versions.current(request.tenantId) };
    const answers = this.answers;
    if (!answers) {
      this.logger.warn('answer cache warming skipped: the answer cache is off (ANSWER_CACHE_TTL_SECONDS=0)', { tenantId: request.tenantId });
      return result;
    }
    let next = 0;
    const worker = async () => {
      while (next < questions.length) {
        const question = questions[next++];
        const corpusVersion = await this.versions.current(request.tenantId);
        const key = answerKey(request.tenantId, corpusVersion, { question });
        if (await answers.get(key)) {
          result.alreadyCached++;
          continue;
        }
        try {
          const reply = await this.answerService.answerUnrecorded({ tenantId: request.tenantId, question, topK: DEFAULT_ANSWER_TOP_K });
          await answers.set(key, { answer: reply.answer, citations: reply.citations, generator: reply.generator });
          result.warmed++;
          result.corpusVersion = corpusVersion;
        } catch (error) {
          result.failed++;
          this.logger.warn('a question could not be answered while warming the answer cache', { tenantId: request.tenantId, error: (error as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: WARMING_CONCURRENCY }, worker));
    this.logger.info('answer cache warmed', { tenantId: request.tenantId, ...result });
    return result;
  }

  /** The most asked questions, folded as the answer key folds them (the phrasing asked most kept). */
  private async topQuestions(tenantId: string, topN: number, sinceDays: number): Promise<string[]> {
    // Twice as many groups as wanted: the key's folding (Unicode, punctuation) may merge some.
    const rows = await this.queryLog.topQuestions(tenantId, topN * 2, sinceDays);
    const folded = new Map<string, { question: string; asked: number; best: number }>();
    for (const row of rows) {
      const name = normaliseQuestion(row.question);
      const entry = folded.get(name);
      if (!entry) folded.set(name, { question: row.question, asked: row.asked, best: row.asked });
      else {
        entry.asked += row.asked;
        if (row.asked > entry.best) Object.assign(entry, { question: row.question, best: row.asked });
      }
    }
    return [...folded.values()]
      .sort((a, b) => b.asked - a.asked)
      .slice(0, topN)
      .map((entry) => entry.question);
  }
}
