import { Controller, Get, Inject } from '@nestjs/common';
import { type CacheStatsReport, TieredCache } from '@quarry/cache';
import { RequiresRole } from '../auth/requires-role.decorator';

/**
 * The gateway's cache figures for operators: per kind and tier hits, misses, hit rate, latency
 * percentiles, entries, bytes, evictions, and each tier's health. Figures of this gateway process
 * (every replica has its own L1); they are counts, never cached content.
 */
@Controller('api/admin/cache')
@RequiresRole('admin')
export class CacheStatsController {
  constructor(@Inject(TieredCache) private readonly cache: TieredCache) {}

  @Get('stats')
  stats(): Promise<CacheStatsReport> {
    return this.cache.stats();
  }
}
