import { Module } from '@nestjs/common';
import { ServiceCacheModule } from '@quarry/service-kit';
import { AnswerCache } from './answer-cache';
import { CacheStatsController } from './cache-stats.controller';
import { ExchangeRecorder } from './exchange-recorder';

/** The gateway's share of the multi-level cache: the answer cache and the operators' stats. */
@Module({
  imports: [ServiceCacheModule.forService('gateway')],
  controllers: [CacheStatsController],
  providers: [AnswerCache, ExchangeRecorder],
  // The tiered cache too (its module re-exported): the operators' analytics report its hit rates.
  exports: [AnswerCache, ExchangeRecorder, ServiceCacheModule],
})
export class CacheModule {}
