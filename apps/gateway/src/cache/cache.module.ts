import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TieredCache } from '@quarry/cache';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { CorpusVersions, type DataSource } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import { AnswerCache } from './answer-cache';
import { CacheStatsController } from './cache-stats.controller';

type CacheConfig = Pick<GatewayConfig, 'REDIS_URL' | 'REDIS_PREFIX' | 'DATABASE_URL' | 'DATABASE_SCHEMA' | 'CACHE_MEMORY_MAX_BYTES' | 'CACHE_HIT_RATE_WARNING'>;

/** Closes the cache's connections and the corpus-version listener when the gateway stops. */
class CacheLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(TieredCache) private readonly cache: TieredCache,
    @Inject(CorpusVersions) private readonly versions: CorpusVersions,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.cache.close(), this.versions.close()]);
  }
}

/** The gateway's share of the multi-level cache: the answer cache and the operators' stats. */
@Module({
  controllers: [CacheStatsController],
  providers: [
    {
      provide: TieredCache,
      useFactory: (config: CacheConfig, dataSource: DataSource, metrics: ServiceMetrics, logger: Logger) =>
        new TieredCache({
          service: 'gateway',
          redis: { url: config.REDIS_URL, prefix: config.REDIS_PREFIX },
          dataSource,
          memoryMaxBytes: config.CACHE_MEMORY_MAX_BYTES,
          registry: metrics.registry,
          logger,
          hitRateWarning: config.CACHE_HIT_RATE_WARNING > 0 ? { threshold: config.CACHE_HIT_RATE_WARNING, minRequests: 100, everyMs: 60_000 } : undefined,
        }),
      inject: [SERVICE_CONFIG, DATA_SOURCE, METRICS, LOGGER],
    },
    {
      provide: CorpusVersions,
      useFactory: async (config: CacheConfig, logger: Logger) => {
        const versions = new CorpusVersions({
          databaseUrl: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          onStateChange: (listening) =>
            listening
              ? logger.info('listening for corpus versions again: cached answers are served from memory')
              : logger.warn('lost the corpus-version listener: every cached answer is checked against Postgres until it is back'),
        });
        await versions.start();
        return versions;
      },
      inject: [SERVICE_CONFIG, LOGGER],
    },
    AnswerCache,
    CacheLifecycle,
  ],
  exports: [AnswerCache],
})
export class CacheModule {}
