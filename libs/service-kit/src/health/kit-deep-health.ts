import type { FactoryProvider, InjectionToken, Provider } from '@nestjs/common';
import type { QueueName } from '@quarry/contracts';
import type { BullMqServer, JobClient, QueueRegistry } from '@quarry/transport';
import { BULLMQ_SERVER } from '../ops.controller';
import type { BaseServiceConfig, ServiceKit } from '../service-kit';
import { JOB_CLIENT, SERVICE_CONFIG } from '../tokens';
import { DeepHealth } from './deep-health';
import { type ModelEndpoint, embeddingEndpoint, llmEndpoint, modelEndpointCheck } from './model-endpoint-check';
import { ownWorkerCheck, queueConsumersCheck } from './queue-checks';
import { RedisPolicyCheck } from './redis-policy';

/** The service's DeepHealth registry: inject it to add the checks only the app knows about. */
export const DEEP_HEALTH = Symbol('DEEP_HEALTH');
const REDIS_POLICY_AT_BOOT = Symbol('REDIS_POLICY_AT_BOOT');

const built = new WeakMap<ServiceKit, { health: DeepHealth; policy: RedisPolicyCheck }>();

/**
 * The checks every service has: Postgres and Redis answer, Redis keeps BullMQ's keys
 * (maxmemory-policy noeviction), and this process's worker runs for each queue it consumes.
 */
function buildKitHealth(kit: ServiceKit, server: BullMqServer | null): { health: DeepHealth; policy: RedisPolicyCheck } {
  let entry = built.get(kit);
  if (!entry) {
    const policy = new RedisPolicyCheck(kit.redis, kit.metrics.registry, kit.logger, kit.config.REDIS_URL);
    const health = new DeepHealth()
      .add('postgres', async () => {
        await kit.dataSource.query('SELECT 1');
      })
      .add('redis', async () => {
        await kit.redis.ping();
      })
      .add('redis-maxmemory-policy', () => policy.check());
    const queues = kit.bullClient.unwrap<QueueRegistry>();
    for (const queue of server?.consumedQueues ?? []) health.add(`worker.${queue}`, ownWorkerCheck(server, queues, queue));
    entry = { health, policy };
    built.set(kit, entry);
    kit.deepHealth = health;
  }
  return entry;
}

/**
 * For ServiceKitModule: the kit's DeepHealth (created here once per kit, also set as
 * `kit.deepHealth`), and the check of Redis's eviction policy at boot (a warning line and the
 * quarry_redis_noeviction gauge).
 */
export function deepHealthProviders(kit: ServiceKit, server: BullMqServer | null): Array<Provider & { provide: InjectionToken }> {
  const { health, policy } = buildKitHealth(kit, server);
  return [
    { provide: DEEP_HEALTH, useValue: health },
    {
      provide: REDIS_POLICY_AT_BOOT,
      useValue: {
        async onApplicationBootstrap(): Promise<void> {
          await policy.checkAtBoot();
        },
      },
    },
  ];
}

/**
 * A provider that registers checks on the service's DeepHealth when the app module is built, with
 * the providers named in `inject` (e.g. `[IndexSynchronizer, SERVICE_CONFIG]`) after the registry.
 */
export function deepHealthChecks<D extends unknown[]>(inject: InjectionToken[], register: (health: DeepHealth, ...dependencies: D) => void): FactoryProvider<true> {
  return {
    provide: Symbol('deep health checks'),
    inject: [DEEP_HEALTH, ...inject],
    useFactory: (health: DeepHealth, ...dependencies: unknown[]) => {
      register(health, ...(dependencies as D));
      return true;
    },
  };
}

export interface QueueDependencies {
  /**
   * Queues this service sends jobs to: some worker must consume each (`consumers.<queue>`). The
   * queues it consumes itself are checked for every service (`worker.<queue>`, from its `queues`).
   */
  sendsTo: QueueName[];
}

/** The deep checks of the queues a service sends to. */
export function queueDeepHealth({ sendsTo }: QueueDependencies): FactoryProvider<true> {
  return deepHealthChecks([JOB_CLIENT, BULLMQ_SERVER], (health, jobs: JobClient, server: BullMqServer | null) => {
    const queues = jobs.proxy.unwrap<QueueRegistry>();
    const own = server?.consumedQueues ?? [];
    for (const queue of new Set(sendsTo)) if (!own.includes(queue)) health.add(`consumers.${queue}`, queueConsumersCheck(queues, queue));
  });
}

type ModelConfig = BaseServiceConfig & Parameters<typeof llmEndpoint>[0] & Partial<Parameters<typeof embeddingEndpoint>[0]>;

/**
 * The deep checks of the model endpoints a service calls: `llm` (LLM_*: agent, ingestion's document
 * analysis) and `embeddings` (EMBEDDING_*: ingestion, retrieval). Each is ok with "not configured"
 * while the local defaults are in use.
 */
export function modelDeepHealth(kinds: Array<'llm' | 'embeddings'>): FactoryProvider<true> {
  return deepHealthChecks([SERVICE_CONFIG], (health, config: ModelConfig) => {
    const endpoints: Record<'llm' | 'embeddings', () => ModelEndpoint | undefined> = {
      llm: () => llmEndpoint(config),
      embeddings: () => embeddingEndpoint({ ...config, EMBEDDING_PROVIDER: config.EMBEDDING_PROVIDER ?? 'local' }),
    };
    for (const kind of kinds) health.add(kind, modelEndpointCheck(endpoints[kind]()));
  });
}
