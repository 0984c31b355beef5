// The runtime contract of the five Quarry services, as documented for deployment. The deployment
// specs check docker-compose.yml, k8s/ and the dashboard against it. Ports and metrics are written
// here; the variables each service reads are not: they are the keys of the zod schema its config
// loader parses (apps/*/src/config.ts), so a manifest cannot drift from the code without a failing
// test. When a service gains an env var, add it to its schema; the specs then say where to pass it.
import { Registry, collectDefaultMetrics } from 'prom-client';
import { type z } from 'zod';
// Apps never import apps, and libs cannot see them; this file (deployment tooling, never imported
// by a service) is the one place that reads the apps' config schemas, because those are the truth.
/* eslint-disable @nx/enforce-module-boundaries */
import { agentConfigSchema } from '../../apps/agent/src/config';
import { gatewayConfigSchema } from '../../apps/gateway/src/config';
import { ingestionConfigSchema } from '../../apps/ingestion/src/config';
import { retrievalConfigSchema } from '../../apps/retrieval/src/config';
import { schedulerConfigSchema } from '../../apps/task-scheduler/src/config';
/* eslint-enable @nx/enforce-module-boundaries */

export type ServiceName = 'gateway' | 'ingestion' | 'retrieval' | 'agent' | 'task-scheduler';

/** The schema each service's config loader parses its environment with. */
export const ENV_SCHEMAS: Readonly<Record<ServiceName, z.ZodObject>> = {
  gateway: gatewayConfigSchema,
  ingestion: ingestionConfigSchema,
  retrieval: retrievalConfigSchema,
  agent: agentConfigSchema,
  'task-scheduler': schedulerConfigSchema,
};

const schemaKeys = (service: ServiceName): string[] => Object.keys(ENV_SCHEMAS[service].shape).sort();

export interface ServiceFacts {
  /** HTTP port for /health/*, /metrics (and /api on the gateway). */
  readonly port: number;
  /** The variable that sets that port. */
  readonly portEnv: 'PORT' | 'HTTP_PORT';
  /** Service-specific variables (in addition to COMMON_ENV), from its schema. */
  readonly env: readonly string[];
  /** Documented minimum HPA replicas (services on the latency path of every question). */
  readonly minReplicas: number;
}

const PORTS = {
  gateway: { port: 3000, portEnv: 'PORT', minReplicas: 2 },
  ingestion: { port: 3001, portEnv: 'HTTP_PORT', minReplicas: 1 },
  retrieval: { port: 3002, portEnv: 'HTTP_PORT', minReplicas: 2 },
  agent: { port: 3003, portEnv: 'HTTP_PORT', minReplicas: 2 },
  'task-scheduler': { port: 3004, portEnv: 'HTTP_PORT', minReplicas: 1 },
} as const satisfies Record<ServiceName, Omit<ServiceFacts, 'env'>>;

export const SERVICE_NAMES = Object.keys(PORTS) as ServiceName[];

/** Variables every service reads (the intersection of the five schemas). */
export const COMMON_ENV: readonly string[] = schemaKeys('gateway').filter((key) => SERVICE_NAMES.every((s) => schemaKeys(s).includes(key)));

const factsOf = (s: ServiceName): ServiceFacts => ({ ...PORTS[s], env: schemaKeys(s).filter((key) => !COMMON_ENV.includes(key)) });

export const SERVICES: Readonly<Record<ServiceName, ServiceFacts>> = {
  gateway: factsOf('gateway'),
  ingestion: factsOf('ingestion'),
  retrieval: factsOf('retrieval'),
  agent: factsOf('agent'),
  'task-scheduler': factsOf('task-scheduler'),
};

export const entryPoint = (service: ServiceName): string => `dist/apps/${service}/src/main.js`;

/** Every variable some service reads. */
export const ALL_ENV: ReadonlySet<string> = new Set([...COMMON_ENV, ...SERVICE_NAMES.flatMap((s) => SERVICES[s].env)]);

/** Variables a given service reads. */
export const envOf = (service: ServiceName): ReadonlySet<string> => new Set([...COMMON_ENV, ...SERVICES[service].env]);

/** What a service uses when `key` is unset, as text (undefined: no default, or an empty list). */
export function defaultOf(service: ServiceName, key: string): string | undefined {
  const field = ENV_SCHEMAS[service].shape[key] as z.ZodType | undefined;
  const parsed = field?.safeParse(undefined);
  if (!parsed?.success || parsed.data === undefined) return undefined;
  const value: unknown = parsed.data;
  if (Array.isArray(value)) return value.join(',') || undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value);
}

/**
 * Secrets: never written as literal values in a ConfigMap or compose file. Recognised by name, so a
 * new `*_API_KEY` in a schema is a secret without anyone remembering to list it (`*_HEADERS`: OTLP
 * exporter headers carry the collector's auth token).
 */
export const SECRET_ENV: ReadonlySet<string> = new Set([...ALL_ENV].filter((key) => /_(API_KEY|PASSWORD|SECRET|TOKEN|HEADERS)$/.test(key)));

/** Connection strings that usually embed a password; in Kubernetes they come from the Secret. */
export const CREDENTIAL_ENV: ReadonlySet<string> = new Set([...SECRET_ENV, 'DATABASE_URL', 'REDIS_URL']);

/** Credentials without which no service can start: their secretKeyRefs are not optional. */
export const REQUIRED_CREDENTIAL_ENV: ReadonlySet<string> = new Set(['DATABASE_URL', 'REDIS_URL']);

/** The out-of-band Secret every credential is read from (k8s/README.md, Secrets). */
export const SECRET_NAME = 'quarry-secrets';

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

export const HEALTH = { live: '/health/live', ready: '/health/ready', metrics: '/metrics' } as const;

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Quarry's own metrics (every one carries the `service` label). */
export const QUARRY_METRICS: Readonly<Record<string, MetricType>> = {
  quarry_http_request_duration_seconds: 'histogram',
  quarry_job_duration_seconds: 'histogram',
  quarry_jobs_total: 'counter',
  quarry_queue_jobs: 'gauge',
  quarry_queue_oldest_waiting_age_seconds: 'gauge',
  quarry_job_failures_total: 'counter',
  quarry_http_responses_total: 'counter',
  quarry_service_ready: 'gauge',
  quarry_request_reply_duration_seconds: 'histogram',
  quarry_index_chunks: 'gauge',
  quarry_index_drift_chunks: 'gauge',
  quarry_index_repaired_documents_total: 'counter',
  quarry_index_catchup_failures_total: 'counter',
  quarry_index_last_catchup_timestamp_seconds: 'gauge',
  quarry_deferred_writes: 'gauge',
  quarry_deferred_writes_dropped_total: 'counter',
  quarry_documents_total: 'counter',
  quarry_ingestion_stage_duration_seconds: 'histogram',
  quarry_ingestion_chunks_total: 'counter',
  quarry_documents_redriven_total: 'counter',
  quarry_job_schedules_restored_total: 'counter',
};

/**
 * Metrics only some services register (the agent's, the cache's, the resource watch's), which the
 * dashboard and the alert rules read. ServiceMetrics' list above is checked against the code; these
 * are checked by the real-Prometheus test (apps/e2e/test/prometheus-outage.e2e.spec.ts), where every
 * dashboard expression has to return data.
 */
export const SERVICE_SPECIFIC_METRICS: Readonly<Record<string, MetricType>> = {
  rag_request_duration_seconds: 'histogram',
  rag_tokens_used_total: 'counter',
  rag_active_requests: 'gauge',
  quarry_agent_node_duration_seconds: 'histogram',
  quarry_agent_tool_calls_total: 'counter',
  quarry_cache_requests_total: 'counter',
  quarry_cache_tier_up: 'gauge',
  quarry_resource_usage: 'gauge',
  quarry_resource_alert_level: 'gauge',
  quarry_worker_concurrency: 'gauge',
};

/**
 * The prom-client default metrics, read from the installed prom-client itself (the services call
 * `collectDefaultMetrics` without a prefix), so the list cannot go stale when prom-client changes.
 */
export function defaultMetrics(): Record<string, MetricType> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const out: Record<string, MetricType> = {};
  for (const metric of registry.getMetricsAsArray()) {
    const type = String(metric.type);
    if (type === 'counter' || type === 'gauge' || type === 'histogram') out[metric.name] = type;
  }
  registry.clear();
  return out;
}
