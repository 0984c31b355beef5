// The runtime contract of the five Quarry services, as documented for deployment. The deployment
// specs check docker-compose.yml, k8s/ and the dashboard against this list rather than against the
// service sources, so a manifest cannot drift from the contract without a failing test. When a
// service gains an env var, port or metric, add it here first.
import { Registry, collectDefaultMetrics } from 'prom-client';

export type ServiceName = 'gateway' | 'ingestion' | 'retrieval' | 'agent' | 'task-scheduler';

export interface ServiceFacts {
  /** HTTP port for /health/*, /metrics (and /api on the gateway). */
  readonly port: number;
  /** The variable that sets that port. */
  readonly portEnv: 'PORT' | 'HTTP_PORT';
  /** Service-specific variables (in addition to COMMON_ENV). */
  readonly env: readonly string[];
  /** Documented minimum HPA replicas (services on the latency path of every question). */
  readonly minReplicas: number;
}

const EMBEDDING_ENV = [
  'EMBEDDING_PROVIDER',
  'EMBEDDING_MODEL',
  'EMBEDDING_DIMENSIONS',
  'EMBEDDING_BASE_URL',
  'EMBEDDING_API_KEY',
] as const;

export const SERVICES: Readonly<Record<ServiceName, ServiceFacts>> = {
  gateway: { port: 3000, portEnv: 'PORT', env: ['PORT', 'MAX_UPLOAD_BYTES', 'AUTH_MODE', 'AUTH_TRUSTED_HEADER', 'AUTH_TRUSTED_ROLE', 'AUTH_BOOTSTRAP_KEY_FILE'], minReplicas: 2 },
  ingestion: {
    port: 3001,
    portEnv: 'HTTP_PORT',
    env: ['HTTP_PORT', 'CHUNK_SIZE_TOKENS', 'CHUNK_OVERLAP_TOKENS', ...EMBEDDING_ENV],
    minReplicas: 1,
  },
  retrieval: {
    port: 3002,
    portEnv: 'HTTP_PORT',
    env: ['HTTP_PORT', ...EMBEDDING_ENV, 'VECTOR_BACKEND', 'QDRANT_URL', 'QDRANT_API_KEY'],
    minReplicas: 2,
  },
  agent: { port: 3003, portEnv: 'HTTP_PORT', env: ['HTTP_PORT', 'LLM_BASE_URL', 'LLM_MODEL', 'LLM_API_KEY', 'QUERY_VARIANTS', 'AGENT_JUDGEMENTS', 'AGENT_MAX_REFINEMENTS', 'AGENT_REFINE_THRESHOLD'], minReplicas: 2 },
  'task-scheduler': { port: 3004, portEnv: 'HTTP_PORT', env: ['HTTP_PORT', 'QUERY_LOG_RETENTION_DAYS'], minReplicas: 1 },
};

export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export const entryPoint = (service: ServiceName): string => `dist/apps/${service}/src/main.js`;

export const COMMON_ENV: readonly string[] = [
  'NODE_ENV',
  'LOG_LEVEL',
  'DATABASE_URL',
  'DATABASE_SCHEMA',
  'DATABASE_POOL_MAX',
  'REDIS_URL',
  'REDIS_PREFIX',
  'WORKER_CONCURRENCY',
  'SHUTDOWN_TIMEOUT_MS',
  'REQUEST_TIMEOUT_MS',
];

/** Every variable some service reads. */
export const ALL_ENV: ReadonlySet<string> = new Set([...COMMON_ENV, ...SERVICE_NAMES.flatMap((s) => SERVICES[s].env)]);

/** Variables a given service reads. */
export const envOf = (service: ServiceName): ReadonlySet<string> => new Set([...COMMON_ENV, ...SERVICES[service].env]);

/** Documented secrets: must never be written as literal values in a ConfigMap or compose file. */
export const SECRET_ENV: ReadonlySet<string> = new Set(['EMBEDDING_API_KEY', 'QDRANT_API_KEY', 'LLM_API_KEY']);

/** Connection strings that usually embed a password; in Kubernetes they come from the Secret. */
export const CREDENTIAL_ENV: ReadonlySet<string> = new Set([...SECRET_ENV, 'DATABASE_URL', 'REDIS_URL']);

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

export const HEALTH = { live: '/health/live', ready: '/health/ready', metrics: '/metrics' } as const;

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Quarry's own metrics (every one carries the `service` label). */
export const QUARRY_METRICS: Readonly<Record<string, MetricType>> = {
  quarry_http_request_duration_seconds: 'histogram',
  quarry_job_duration_seconds: 'histogram',
  quarry_jobs_total: 'counter',
  quarry_queue_jobs: 'gauge',
  quarry_request_reply_duration_seconds: 'histogram',
  quarry_index_chunks: 'gauge',
  quarry_index_drift_chunks: 'gauge',
  quarry_index_repaired_documents_total: 'counter',
  quarry_index_catchup_failures_total: 'counter',
  quarry_index_last_catchup_timestamp_seconds: 'gauge',
  quarry_deferred_writes: 'gauge',
  quarry_deferred_writes_dropped_total: 'counter',
  quarry_documents_total: 'counter',
  quarry_documents_redriven_total: 'counter',
  quarry_job_schedules_restored_total: 'counter',
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
