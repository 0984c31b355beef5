import { Module } from '@nestjs/common';
import { CacheModule } from '../cache/cache.module';
import { SystemModule } from '../system/system.module';
import { AnalyticsController } from './analytics.controller';
import { AnalyticsService } from './analytics.service';
import { SystemAnalyticsService } from './system-analytics.service';

/** /api/analytics: the tenant's questions and documents, and the installation's load (admin keys). */
@Module({
  imports: [CacheModule, SystemModule],
  controllers: [AnalyticsController],
  providers: [AnalyticsService, SystemAnalyticsService],
})
export class AnalyticsModule {}
