import type { ServiceMetrics, Logger } from '@quarry/observability';
import type { DataSource } from '@quarry/persistence';
import type { BullMqClient, JobClient } from '@quarry/transport';
import type Redis from 'ioredis';
import type { DeepHealth } from './health/deep-health';
import type { Readiness } from './readiness';
import type { ResourceControlConfig } from './resources/resource-control';

/** The settings every service has (the README's env table lists them). */
export interface BaseServiceConfig extends ResourceControlConfig {
  LOG_LEVEL: 'error' | 'warn' | 'info' | 'debug';
  SHUTDOWN_TIMEOUT_MS: number;
  DATABASE_URL: string;
  DATABASE_SCHEMA: string;
  DATABASE_POOL_MAX: number;
  DATABASE_STATEMENT_TIMEOUT_MS: number;
  REDIS_URL: string;
  REDIS_PREFIX: string;
  WORKER_CONCURRENCY: number;
  WORKER_LOCK_MS: number;
  REQUEST_TIMEOUT_MS: number;
}

/** Shared resources of one service process, built once at boot. */
export interface ServiceKit<C extends BaseServiceConfig = BaseServiceConfig> {
  name: string;
  config: C;
  logger: Logger;
  metrics: ServiceMetrics;
  dataSource: DataSource;
  jobs: JobClient;
  bullClient: BullMqClient;
  readiness: Readiness;
  redis: Redis;
  /** GET /health/deep's checks; set by ServiceKitModule.forRoot, apps add theirs through DEEP_HEALTH. */
  deepHealth?: DeepHealth;
}
