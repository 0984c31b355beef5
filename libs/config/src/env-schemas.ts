import { z } from 'zod';

/**
 * Environment variables, grouped by concern. Each app composes the groups it needs into one schema;
 * the README's env table lists the same names and defaults.
 */
const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== '' ? value.trim() : undefined));

export const runtimeEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  SHUTDOWN_TIMEOUT_MS: positiveInt(25_000),
});

export const databaseEnv = z.object({
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).default('postgres://postgres@127.0.0.1:5432/quarry'),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'DATABASE_SCHEMA must be a lowercase SQL identifier')
    .default('public'),
  DATABASE_POOL_MAX: positiveInt(10),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt(30_000),
});

export const redisEnv = z.object({
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_:.-]{1,64}$/, 'REDIS_PREFIX may hold letters, digits and _ : . -')
    .default('quarry'),
});

const ratio = (fallback: number) => z.coerce.number().min(0).max(1).default(fallback);

export const workerEnv = z.object({
  WORKER_CONCURRENCY: positiveInt(4),
  /** A job whose worker stops renewing its lock for this long (a crashed process) is run again. */
  WORKER_LOCK_MS: positiveInt(30_000),
  REQUEST_TIMEOUT_MS: positiveInt(30_000),
  /** The least concurrency resource pressure may lower a queue worker to. */
  WORKER_CONCURRENCY_MIN: positiveInt(1),
  /** How often a worker samples CPU, memory, event-loop delay and disk. */
  RESOURCE_SAMPLE_MS: positiveInt(5000),
  RESOURCE_CPU_WARNING: ratio(0.7),
  RESOURCE_CPU_CRITICAL: ratio(0.85),
  RESOURCE_MEMORY_WARNING: ratio(0.8),
  RESOURCE_MEMORY_CRITICAL: ratio(0.9),
  RESOURCE_LAG_WARNING_MS: positiveInt(200),
  RESOURCE_LAG_CRITICAL_MS: positiveInt(1000),
  RESOURCE_DISK_WARNING: ratio(0.85),
  RESOURCE_DISK_CRITICAL: ratio(0.95),
});

export const gatewayHttpEnv = z.object({
  PORT: port(3000),
  HOST: z.string().default('0.0.0.0'),
  MAX_UPLOAD_BYTES: positiveInt(50 * 1024 * 1024),
  MAX_BATCH_FILES: positiveInt(100),
  MAX_BATCH_BYTES: positiveInt(200 * 1024 * 1024),
  /** Open progress streams (GET /api/jobs/:id/events) per API key (per tenant in trusted-header mode) and gateway process; 429 past it. */
  SSE_MAX_STREAMS_PER_KEY: positiveInt(100),
  /** Comment lines on idle progress streams, so proxies do not close them. */
  SSE_HEARTBEAT_MS: positiveInt(15_000),
  /** How often the gateway checks the documents its progress streams watch (one query for all of them). */
  SSE_POLL_MS: positiveInt(250),
});

/** Who a gateway request acts for (README, Authentication). */
export const authEnv = z.object({
  /**
   * `api-key` (default): every /api request needs a key. `trusted-header`: the tenant is taken from
   * AUTH_TRUSTED_HEADER, set by an authenticating proxy; safe only when nothing else reaches the gateway.
   */
  AUTH_MODE: z.enum(['api-key', 'trusted-header']).default('api-key'),
  AUTH_TRUSTED_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'AUTH_TRUSTED_HEADER must be an HTTP header name')
    .default('x-tenant-id')
    .transform((name) => name.toLowerCase()),
  /** The role every request gets in trusted-header mode. */
  AUTH_TRUSTED_ROLE: z.enum(['read', 'write', 'admin']).default('write'),
  /**
   * The operators' tenant: only its admin keys see and steer what spans every tenant — the queue
   * dashboard, system-wide views, installation-wide tasks (corpus.reembed). The default is the
   * tenant whose admin key the first boot creates.
   */
  OPERATOR_TENANT: z.string().min(1).default('default'),
  /**
   * The queue dashboard (bull-board) at /admin/queues, for OPERATOR_TENANT's admin keys: `off`,
   * `read-only` (default: see every queue's jobs, change none) or `full` (retry, promote, remove).
   */
  QUEUE_DASHBOARD: z.enum(['off', 'read-only', 'full']).default('read-only'),
  /** Where the first boot writes the admin key it creates (0600, in a 0700 folder); relative to the working directory. */
  AUTH_BOOTSTRAP_KEY_FILE: z.string().min(1).default('.quarry/admin-key'),
});

const limit = (fallback: number) => z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(fallback);
const GIB = 1024 * 1024 * 1024;

/** A comma-separated list of browser origins (`https://app.example.com`), or `*` for any. */
const originList = z
  .string()
  .optional()
  .transform((value, context) => {
    const origins: string[] = [];
    for (const entry of (value ?? '').split(',').map((item) => item.trim())) {
      if (entry === '') continue;
      if (entry === '*') {
        origins.push(entry);
        continue;
      }
      let parsed: URL | undefined;
      try {
        parsed = new URL(entry);
      } catch {
        parsed = undefined;
      }
      // An origin is scheme://host[:port] and nothing more: exactly what a browser sends in Origin.
      if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.origin !== entry.replace(/\/$/, '').toLowerCase()) {
        context.addIssue({ code: 'custom', message: `"${entry}" is not an origin like https://app.example.com (scheme, host and port only)` });
      } else {
        origins.push(parsed.origin);
      }
    }
    return origins;
  });

/** The gateway's abuse limits (README, Limits). */
export const limitsEnv = z.object({
  /** Requests per API key (per tenant in trusted-header mode) per minute, shared by all gateway replicas through Redis. 0: no rate limit at all. */
  RATE_LIMIT_PER_MINUTE: limit(1200),
  /** Of those, at most this many in any one second (bursts). 0 (or not below RATE_LIMIT_PER_MINUTE): no per-second cap. */
  RATE_LIMIT_BURST: limit(100),
  /** Documents a tenant may hold (every status counts until deleted); a tenant's `max_documents` column overrides it. */
  TENANT_MAX_DOCUMENTS: limit(100_000),
  /** Bytes of uploaded files a tenant may hold; a tenant's `max_stored_bytes` column overrides it. */
  TENANT_MAX_STORED_BYTES: limit(20 * GIB),
  /** Longest a client may take to send a whole request, headers and body (slow uploads included). 0: no limit. */
  HTTP_REQUEST_TIMEOUT_MS: limit(600_000),
  /** Longest a client may take to send the request line and headers (slowloris). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1000).default(30_000),
  /** A connection on which nothing is sent or received for this long is closed (an SSE heartbeat counts). 0: never. */
  HTTP_IDLE_TIMEOUT_MS: limit(120_000),
  /** Browser origins allowed to call the API (CORS); empty: CORS off, no Access-Control-Allow-Origin is ever sent. */
  CORS_ORIGINS: originList,
});

/** The multi-level cache (README, Cache), in every service that uses one. */
export const cacheEnv = z.object({
  /** Bytes of cached values one process holds in memory (L1), over every kind. */
  CACHE_MEMORY_MAX_BYTES: positiveInt(64 * 1024 * 1024),
  /** A kind whose hit rate stays under this is logged as a warning (0: never warn). */
  CACHE_HIT_RATE_WARNING: z.coerce.number().min(0).max(1).default(0.6),
});

/** The gateway's answer cache. */
export const answerCacheEnv = z.object({
  /**
   * How long a cached answer may be served (0: no answer cache). Answers are keyed by the tenant's
   * corpus version, so a document change never serves a stale one; the TTL bounds what a change of
   * the agent's model or settings leaves behind.
   */
  ANSWER_CACHE_TTL_SECONDS: limit(600),
});

/** The retrieval service's caches: search results per corpus version, and query vectors. */
export const retrievalCacheEnv = z.object({
  /** How long a search result may be served (0: none kept); an index change of the tenant ends it at once. */
  RETRIEVAL_CACHE_TTL_SECONDS: limit(300),
  /** How long a query's vector is kept (0: none); content-addressed by model, dimensions and text. */
  QUERY_EMBEDDING_CACHE_TTL_SECONDS: limit(24 * 60 * 60),
});

export const serviceHttpEnv = (fallbackPort: number) =>
  z.object({ HTTP_PORT: port(fallbackPort), HOST: z.string().default('0.0.0.0') });

export const embeddingEnv = z.object({
  EMBEDDING_PROVIDER: z.enum(['local', 'openai']).default('local'),
  EMBEDDING_MODEL: optionalString,
  EMBEDDING_DIMENSIONS: positiveInt(384),
  EMBEDDING_BASE_URL: optionalString,
  EMBEDDING_API_KEY: optionalString,
});

export const parsingEnv = z.object({
  PARSE_TIMEOUT_MS: positiveInt(60_000),
  PARSE_MAX_HEAP_MB: positiveInt(512),
  PARSE_MAX_DECOMPRESSED_BYTES: positiveInt(256 * 1024 * 1024),
  /** Documents up to this size run all ingestion steps in one job; 0 runs every step as its own job. */
  INLINE_STEPS_MAX_BYTES: z.coerce.number().int().min(0).default(64 * 1024),
});

export const chunkingEnv = z.object({
  CHUNK_SIZE_TOKENS: positiveInt(400),
  CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).default(60),
});

export const llmEnv = z.object({
  LLM_BASE_URL: optionalString,
  LLM_MODEL: optionalString,
  LLM_API_KEY: optionalString,
  LLM_MAX_TOKENS: positiveInt(512),
  LLM_TIMEOUT_MS: positiveInt(60_000),
});

/** The agent's cache of chat completions (the same request is sent to the model once per TTL). */
export const llmResponseCacheEnv = z.object({
  /** How long a completion is kept (0: none). Only deterministic requests (temperature 0) are cached. */
  LLM_RESPONSE_CACHE_TTL_SECONDS: limit(24 * 60 * 60),
});

export const contextEnv = z.object({
  /** Tokens of retrieved text the answer generator gets. */
  CONTEXT_BUDGET_TOKENS: positiveInt(3000),
  /** How passages are chosen for that budget: relevance, diversity, or both (MMR). */
  CONTEXT_STRATEGY: z.enum(['relevance', 'diversity', 'both']).default('both'),
});

export const queryVariantsEnv = z.object({
  /** Rephrasings of each question the chat model writes for multi-query retrieval (0: off). */
  QUERY_VARIANTS: z.coerce.number().int().min(0).max(4).default(0),
});

/** The agent's answer loop: when it refines, and the bounds no answer goes past. */
export const agentLoopEnv = z.object({
  /** Who judges questions, plans and answers: `auto` (the chat model when LLM_* are set, else rules) or `local` (always the rules). */
  AGENT_JUDGEMENTS: z.enum(['auto', 'local']).default('auto'),
  /** An answer whose evaluation (overall, 0..1) is below this is refined: re-retrieved or re-planned. */
  AGENT_REFINE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.45),
  /** Refine rounds per answer unless the request says (`maxRefinements`); 0 turns the loop off. */
  AGENT_MAX_REFINEMENTS: z.coerce.number().int().min(0).max(3).default(1),
  /** Tool calls one answer may make over all its rounds. */
  AGENT_MAX_TOOL_CALLS: positiveInt(16),
  /** No refine round starts after this long. */
  AGENT_TIME_BUDGET_MS: positiveInt(20_000),
  /** No refine round starts once model calls spent this many tokens. */
  AGENT_TOKEN_BUDGET: positiveInt(24_000),
  /** Tokens of conversation history a follow-up is resolved with (older turns compressed, then dropped). */
  HISTORY_BUDGET_TOKENS: positiveInt(1500),
});

export const vectorBackendEnv = z.object({
  VECTOR_BACKEND: z.enum(['embedded', 'qdrant']).default('embedded'),
  QDRANT_URL: optionalString,
  QDRANT_API_KEY: optionalString,
});

/** How a retrieval replica keeps its index current with Postgres (README, Configuration). */
export const indexSyncEnv = z.object({
  /** How often each replica compares its index with Postgres and repairs what differs. */
  INDEX_RECONCILE_EVERY_MS: positiveInt(60_000),
  /** Longest a search waits for the replica to catch up with Postgres (read-your-writes); 0 never waits. */
  INDEX_FRESHNESS_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(250),
});

export const schedulerEnv = z.object({
  QUERY_LOG_RETENTION_DAYS: positiveInt(30),
  HOUSEKEEPING_EVERY_MS: positiveInt(60 * 60 * 1000),
  // Liveness is judged by the step's job in BullMQ, not by age, so the reconciler can look early
  // and often: a stuck document is re-driven within RECONCILE_STUCK_SECONDS + RECONCILE_EVERY_MS.
  RECONCILE_EVERY_MS: positiveInt(15 * 1000),
  RECONCILE_STUCK_SECONDS: positiveInt(20),
  /** Real failures of one step (outages, cancellations, shutdowns and lost jobs do not count) before giving up. */
  RECONCILE_MAX_STEP_ATTEMPTS: positiveInt(5),
  /** Most documents one reconcile round looks at; the next round goes on where it stopped. */
  RECONCILE_MAX_DOCUMENTS_PER_ROUND: positiveInt(5000),
  /** How often the scheduler checks that its repeating jobs still exist in Redis (and restores them). */
  SCHEDULE_CHECK_EVERY_MS: positiveInt(15 * 1000),
  /** The hour (UTC) of the nightly cache.warm of every tenant that asked questions in the last 7 days (-1: no nightly warming). */
  CACHE_WARM_HOUR: z.coerce.number().int().min(-1).max(23).default(2),
  /** How many of a tenant's most asked questions a scheduled cache.warm answers. */
  CACHE_WARM_TOP_N: positiveInt(100),
  /** retention.purge deletes index changes older than this (every retrieval replica has long applied them). */
  INDEX_CHANGES_RETENTION_HOURS: positiveInt(24),
  /** retention.purge deletes embedding-cache rows no chunk uses once older than this. */
  EMBEDDING_CACHE_RETENTION_DAYS: positiveInt(30),
  /** retention.purge deletes resource alerts (system_alerts) cleared more than this long ago. */
  SYSTEM_ALERTS_RETENTION_DAYS: positiveInt(30),
  /**
   * Which addresses task webhooks may reach, checked when connecting (after DNS, so a name that
   * resolves to an internal address is refused too): `public` only, or `any` (private, loopback,
   * link-local included: receivers inside your own network). A webhook is a URL any write key
   * can name, so reaching internal services is opt-in.
   */
  TASK_WEBHOOK_ADDRESSES: z.enum(['public', 'any']).default('public'),
  /** How long a webhook receiver has to answer one push. */
  TASK_WEBHOOK_TIMEOUT_MS: positiveInt(10_000),
});

/**
 * OpenTelemetry tracing (libs/observability `startTracing`), which reads these from the process
 * environment itself, as the SDK does. Declared here so every deployment passes them
 * (tools/deploy/env-drift.spec.ts); tracing stays off while no endpoint is set.
 */
export const otelEnv = z.object({
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString,
  /** http/protobuf (the SDK's default), http/json or grpc. */
  OTEL_EXPORTER_OTLP_PROTOCOL: optionalString,
  OTEL_SERVICE_NAME: optionalString,
  OTEL_SDK_DISABLED: optionalString,
  /** E.g. parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1: one trace in ten (the SDK's default keeps all). */
  OTEL_TRACES_SAMPLER: optionalString,
  OTEL_TRACES_SAMPLER_ARG: optionalString,
  /** `pg`, `ioredis` (comma-separated): no Postgres or Redis spans. */
  OTEL_NODE_DISABLED_INSTRUMENTATIONS: optionalString,
});

/** What every service reads: runtime, Postgres, Redis, queue worker and tracing settings. */
export const serviceEnv = runtimeEnv.extend(databaseEnv.shape).extend(redisEnv.shape).extend(workerEnv.shape).extend(otelEnv.shape);
