import { Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { QueueName } from '@quarry/contracts';
import { type Logger, NestWinstonLogger, ServiceMetrics, createLogger, stopTracing } from '@quarry/observability';
import { endpointsFromUrls } from '@quarry/domain';
import { SystemAlertRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { BullMqClient, BullMqServer, JobClient, PassThroughRpcExceptionFilter, type QueueRegistry, QueueDepthSampler } from '@quarry/transport';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import type { FastifyHttpOptions, FastifyServerOptions } from 'fastify';
import Redis from 'ioredis';
import { CorrelationInterceptor } from './correlation.interceptor';
import { checkPostgres, checkRedis } from './dependency-check';
import { Readiness } from './readiness';
import { recordHttpMetrics } from './record-http-metrics';
import { runRequestsInContext } from './request-context';
import { AlertRecorder } from './resources/alert-recorder';
import { ResourceControl } from './resources/resource-control';
import type { BaseServiceConfig, ServiceKit } from './service-kit';
import { ServiceKitModule } from './service-kit.module';

export interface ServiceDefinition<C extends BaseServiceConfig> {
  name: string;
  config: C;
  http: {
    port: number;
    host: string;
    bodyLimit?: number;
    /** Further Fastify server options (the gateway answers parser and framework errors in its own shape, and sets its timeouts). */
    fastify?: Pick<FastifyServerOptions, 'clientErrorHandler' | 'frameworkErrors' | 'requestTimeout' | 'connectionTimeout'> & Pick<FastifyHttpOptions<Server>, 'http'>;
  };
  /** Queues this service consumes with its `@MessagePattern` / `@EventPattern` handlers. */
  queues: QueueName[];
  /** The app's own module; it can inject the kit's tokens (LOGGER, DATA_SOURCE, JOB_CLIENT …). */
  module: Type<unknown>;
  /** Extra HTTP setup (the gateway registers multipart and its error filter here). */
  configureHttp?: (app: NestFastifyApplication, kit: ServiceKit<C>) => Promise<void> | void;
  /** Tests silence the JSON logs. */
  silentLogs?: boolean;
}

export interface RunningService<C extends BaseServiceConfig> {
  app: NestFastifyApplication;
  kit: ServiceKit<C>;
  url: string;
  /** The worker's resource watch (services that consume queues). */
  resources: ResourceControl | null;
  /** Stores the resource watch's alerts in Postgres (system_alerts), when there is a watch. */
  alerts: AlertRecorder | null;
  /** Graceful stop: not ready, stop taking jobs, finish active ones, close HTTP and connections. */
  close(): Promise<void>;
}

/**
 * Boots one Quarry service: checks Postgres and Redis (one clear line if either is unreachable),
 * migrates under a lock, starts the HTTP server (ops routes + the app's own) and the BullMQ
 * consumer, and wires graceful shutdown.
 */
export async function runService<C extends BaseServiceConfig>(definition: ServiceDefinition<C>): Promise<RunningService<C>> {
  const { config, name } = definition;
  const logger = createLogger({ service: name, level: config.LOG_LEVEL, silent: definition.silentLogs });
  logUnhandledRejections(logger);
  await checkPostgres(config.DATABASE_URL, config.DATABASE_SCHEMA);
  await checkRedis(config.REDIS_URL);

  const metrics = new ServiceMetrics(name);
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: config.DATABASE_POOL_MAX,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    applicationName: `quarry-${name}`,
  }).initialize();
  const applied = await runMigrationsExclusively(dataSource);
  if (applied.length > 0) logger.info('migrations applied', { migrations: applied });

  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => undefined);
  const target = { url: config.REDIS_URL, prefix: config.REDIS_PREFIX };
  const bullClient = new BullMqClient({ ...target, requestTimeoutMs: config.REQUEST_TIMEOUT_MS, metrics });
  const kit: ServiceKit<C> = {
    name,
    config,
    logger,
    metrics,
    dataSource,
    jobs: new JobClient(bullClient),
    bullClient,
    readiness: new Readiness(dataSource, redis),
    redis,
  };
  sampleAtScrape(kit);

  const server =
    definition.queues.length > 0
      ? new BullMqServer({
          ...target,
          queues: definition.queues,
          concurrency: config.WORKER_CONCURRENCY,
          lockMs: config.WORKER_LOCK_MS,
          shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
          logger,
          metrics,
          endpoints: endpointsFromUrls({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL }),
        })
      : null;

  @Module({ imports: [ServiceKitModule.forRoot(kit, server), definition.module] })
  class RootModule {}

  // Job ids (ingest-<uuid>-<sha256>) are longer than Fastify's default 100-character path parameter.
  const adapter = new FastifyAdapter({ ...definition.http.fastify, bodyLimit: definition.http.bodyLimit, maxParamLength: 256 });
  const app = await NestFactory.create<NestFastifyApplication>(RootModule, adapter, {
    logger: new NestWinstonLogger(logger),
  });
  const fastify = app.getHttpAdapter().getInstance();
  // First, so every later hook (the gateway's authentication) runs inside the request's context.
  runRequestsInContext(fastify);
  app.useGlobalInterceptors(new CorrelationInterceptor());
  recordHttpMetrics(fastify, kit);
  await definition.configureHttp?.(app, kit);
  if (server) {
    // Deferred, so the filter is in place before Nest wraps the handlers. A deferred microservice
    // would run the lifecycle hooks (onApplicationBootstrap …) a second time when it starts; app.init()
    // below already runs them once for the whole application.
    const microservice = app.connectMicroservice<MicroserviceOptions>({ strategy: server }, { deferInitialization: true });
    (microservice as unknown as { setIsInitHookCalled(called: boolean): void }).setIsInitHookCalled(true);
    microservice.useGlobalFilters(new PassThroughRpcExceptionFilter());
  }
  await app.init();
  await app.startAllMicroservices();
  await app.listen(definition.http.port, definition.http.host);
  const url = await app.getUrl();
  logger.info('service started', { url, queues: definition.queues });
  const resources = server ? new ResourceControl(config, server, kit.metrics.registry, logger) : null;
  // The host name is the replica (a pod's name in Kubernetes); the pid tells a restarted process from the one before it.
  const alerts = resources ? new AlertRecorder(new SystemAlertRepository(dataSource), { service: name, replica: hostname(), pid: process.pid }, logger) : null;
  if (resources && alerts) {
    resources.monitor.onAlert((alert) => alerts.record(alert));
    void alerts.start();
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      kit.readiness.markShuttingDown();
      logger.info('shutting down: no new jobs, finishing active ones');
      resources?.stop();
      await alerts?.stop();
      await server?.close();
      await app.close();
      await bullClient.close();
      await dataSource.destroy();
      redis.disconnect();
      await stopTracing();
      logger.info('shutdown complete');
    })();
    return closing;
  };
  return { app, kit, url: url.replace('[::1]', '127.0.0.1'), resources, alerts, close };
}

let rejectionsLogged = false;

/**
 * A promise rejected where nobody listens (seen inside libraries while Redis restarts) is logged
 * with its stack instead of killing the process: every request in flight would die with it, and
 * the work it belongs to is retried by the queues anyway.
 */
function logUnhandledRejections(logger: Logger): void {
  if (rejectionsLogged) return;
  rejectionsLogged = true;
  process.on('unhandledRejection', (reason) => {
    logger.error('unhandled promise rejection', { error: (reason as Error | undefined)?.message ?? String(reason), stack: (reason as Error | undefined)?.stack });
  });
}

/**
 * Queue depths (every queue, whichever service this is) and readiness, sampled for each scrape, so
 * the numbers are current and the processes still alive report a queue whose consumers are down.
 */
function sampleAtScrape(kit: ServiceKit<BaseServiceConfig>): void {
  const depths = new QueueDepthSampler(kit.bullClient.unwrap<QueueRegistry>(), kit.metrics);
  kit.metrics.beforeRender(() => depths.sample());
  kit.metrics.beforeRender(async () => {
    kit.metrics.serviceReady.set((await kit.readiness.report()).ready ? 1 : 0);
  });
}
