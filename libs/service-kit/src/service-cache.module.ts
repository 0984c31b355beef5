import { type DynamicModule, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { TieredCache } from '@quarry/cache';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { CorpusVersions, type DataSource } from '@quarry/persistence';
import type { Readiness } from './readiness';
import type { BaseServiceConfig } from './service-kit';
import { DATA_SOURCE, LOGGER, METRICS, READINESS, SERVICE_CONFIG } from './tokens';

/** The settings a service's cache is built from (libs/config cacheEnv). */
export interface ServiceCacheConfig extends Pick<BaseServiceConfig, 'REDIS_URL' | 'REDIS_PREFIX' | 'DATABASE_URL' | 'DATABASE_SCHEMA'> {
  CACHE_MEMORY_MAX_BYTES: number;
  CACHE_HIT_RATE_WARNING: number;
}

/** Closes the cache's connections and the corpus-version listener when the service stops. */
class ServiceCacheLifecycle implements OnApplicationShutdown {
  constructor(
    @Inject(TieredCache) private readonly cache: TieredCache,
    @Inject(CorpusVersions) private readonly versions: CorpusVersions,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([this.cache.close(), this.versions.close()]);
  }
}

/**
 * A service's share of the multi-level cache: one TieredCache (memory, this service's Redis,
 * Postgres) whose tiers' health is part of /health/ready's details (a cache tier that is down makes
 * no service unready: it is skipped), and the tenants' corpus versions, kept current by
 * LISTEN/NOTIFY, that every tenant-bound key holds.
 */
@Module({})
export class ServiceCacheModule {
  static forService(service: string): DynamicModule {
    return {
      module: ServiceCacheModule,
      providers: [
        {
          provide: TieredCache,
          useFactory: (config: ServiceCacheConfig, dataSource: DataSource, metrics: ServiceMetrics, logger: Logger, readiness: Readiness) => {
            const cache = new TieredCache({
              service,
              redis: { url: config.REDIS_URL, prefix: config.REDIS_PREFIX },
              dataSource,
              memoryMaxBytes: config.CACHE_MEMORY_MAX_BYTES,
              registry: metrics.registry,
              logger,
              hitRateWarning: config.CACHE_HIT_RATE_WARNING > 0 ? { threshold: config.CACHE_HIT_RATE_WARNING, minRequests: 100, everyMs: 60_000 } : undefined,
            });
            // State and since only: a tier's last error names hosts and ports, and readiness is public on the gateway (the log has the error).
            readiness.addDetail('cache', () => cache.health().map(({ tier, state, since }) => ({ tier, state, since })));
            return cache;
          },
          inject: [SERVICE_CONFIG, DATA_SOURCE, METRICS, LOGGER, READINESS],
        },
        {
          provide: CorpusVersions,
          useFactory: async (config: ServiceCacheConfig, logger: Logger) => {
            const versions = new CorpusVersions({
              databaseUrl: config.DATABASE_URL,
              schema: config.DATABASE_SCHEMA,
              onStateChange: (listening) =>
                listening
                  ? logger.info('listening for corpus versions again: cached entries are checked from memory')
                  : logger.warn('lost the corpus-version listener: every cache lookup reads the corpus version from Postgres until it is back'),
            });
            await versions.start();
            return versions;
          },
          inject: [SERVICE_CONFIG, LOGGER],
        },
        ServiceCacheLifecycle,
      ],
      exports: [TieredCache, CorpusVersions],
    };
  }
}
