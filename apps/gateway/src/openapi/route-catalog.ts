import type { GatewayConfig } from '../config';
import { KeysController } from '../auth/keys.controller';
import { ApiKeyId, ApiKeyList, CreateApiKeyBody, CreatedApiKey } from '../auth/keys.schemas';
import { DocumentsController } from '../documents/documents.controller';
import {
  BatchUploadFormFields,
  BatchUploadResult,
  DocumentDetail,
  DocumentId,
  DocumentPage,
  ListDocumentsQuery,
  UploadFormFields,
  UploadResult,
} from '../documents/documents.schemas';
import { JSON_BODY_LIMIT_BYTES } from '../http/gateway-http-options';
import { JOB_STREAM_EVENTS, JobId, JobView } from '../jobs/jobs.schemas';
import { JobsController } from '../jobs/jobs.controller';
import { QueryController } from '../query/query.controller';
import { QueriesController } from '../queries/queries.controller';
import { QueryId, QueryTraceView, ReportQuery } from '../queries/queries.schemas';
import { QUERY_STREAM_EVENTS, QueryBody, QueryReply } from '../query/query.schemas';
import { OpenAiController } from '../openai/openai.controller';
import { CHAT_STREAM_EVENTS, ChatCompletion, ChatCompletionBody, ModelList, OpenAiErrorBody } from '../openai/openai.schemas';
import { DeepHealthReport, LiveReply, ReadinessReport } from './ops.schemas';
import type { RouteDoc } from './route-doc';
import { ConversationsController } from '../conversations/conversations.controller';
import { ConversationDetail, ConversationId, ConversationPage, ListConversationsQuery } from '../conversations/conversations.schemas';
import { CacheStatsController } from '../cache/cache-stats.controller';
import { CacheStatsReply } from '../cache/cache-stats.schemas';
import { TasksController } from '../tasks/tasks.controller';
import { ListTasksQuery, SubmitTaskBody, TASK_STREAM_EVENTS, TaskId, TaskPage, TaskReply, TaskStats } from '../tasks/tasks.schemas';
import { SystemController } from '../system/system.controller';
import { AlertList, ListAlertsQuery } from '../system/system.schemas';
import { AnalyticsController } from '../analytics/analytics.controller';
import { DocumentAnalytics, DocumentAnalyticsQuery, QueryAnalytics, QueryAnalyticsQuery, SystemAnalytics } from '../analytics/analytics.schemas';

/** Where the document and its browsable UI are served (public: no key). */
export const OPENAPI_JSON_PATH = '/api/openapi.json';
export const DOCS_UI_PATH = '/api/docs';

export type CatalogLimits = Pick<GatewayConfig, 'MAX_UPLOAD_BYTES' | 'MAX_BATCH_FILES' | 'MAX_BATCH_BYTES' | 'SSE_MAX_STREAMS_PER_KEY'>;

const mib = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 100) / 100} MiB`;

const DOCUMENT_TYPES = [
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'text/html',
  'text/markdown',
  'text/plain',
  'application/octet-stream',
].join(', ');

/** The OpenAI-compatible routes answer errors in OpenAI's shape (openai/openai-errors.ts), not Quarry's. */
function openAiErrors(...statuses: number[]): Record<number, { description: string; json: typeof OpenAiErrorBody }> {
  return Object.fromEntries(statuses.map((status) => [status, { description: `An error (HTTP ${status}) in OpenAI's shape: \`{"error":{"message","type","param","code"}}\`.`, json: OpenAiErrorBody }]));
}

/**
 * Every route the gateway serves, for its OpenAPI document. The request schemas are the objects
 * the controllers validate with; the response schemas type what the services return. A test
 * fails when a route Fastify registered is missing here, or a route here is not registered.
 */
export function routeCatalog(limits: CatalogLimits): RouteDoc[] {
  return [
    {
      handler: [DocumentsController, 'upload'],
      operationId: 'uploadDocument',
      tag: 'documents',
      summary: 'Upload a document',
      description:
        `Stores the file and queues it for ingestion (202); the same content again returns the existing document (200, \`duplicate: true\`). ` +
        `Follow the job at \`GET /api/jobs/{id}\` or its \`/events\` stream. At most MAX_UPLOAD_BYTES (${mib(limits.MAX_UPLOAD_BYTES)} here): ` +
        'a larger Content-Length is refused before the body is read, a chunked upload the moment it passes the limit. ' +
        'An upload that cannot be queued leaves nothing behind (503).',
      body: { multipart: UploadFormFields, encoding: { file: { contentType: DOCUMENT_TYPES } } },
      responses: {
        202: { description: 'Stored and queued.', json: UploadResult },
        200: { description: 'The tenant already had this content: the existing document (`duplicate: true`).', json: UploadResult },
      },
      errors: [400, 403, 413, 415, 422],
    },
    {
      handler: [DocumentsController, 'uploadBatch'],
      operationId: 'uploadDocuments',
      tag: 'documents',
      summary: 'Upload several documents',
      description:
        `Up to MAX_BATCH_FILES files (${limits.MAX_BATCH_FILES} here) of at most MAX_UPLOAD_BYTES each and MAX_BATCH_BYTES (${mib(limits.MAX_BATCH_BYTES)} here) together, ` +
        'with shared `tags` and `folder`. Each file succeeds or fails on its own: a refused file has an `error` entry in the reply.',
      body: { multipart: BatchUploadFormFields, encoding: { file: { contentType: DOCUMENT_TYPES } } },
      responses: { 202: { description: 'One entry per file, in the order sent.', json: BatchUploadResult } },
      errors: [400, 403, 413],
    },
    {
      handler: [DocumentsController, 'list'],
      operationId: 'listDocuments',
      tag: 'documents',
      summary: "List the tenant's documents",
      description: 'Newest first, a page at a time.',
      query: ListDocumentsQuery,
      responses: { 200: { description: 'One page.', json: DocumentPage } },
      errors: [400],
    },
    {
      handler: [DocumentsController, 'get'],
      operationId: 'getDocument',
      tag: 'documents',
      summary: 'Get a document',
      description: 'Status (queued → processing → indexed, or failed with a readable `error`), chunk count, pages, analysis and every processing attempt.',
      pathParams: { id: DocumentId },
      responses: { 200: { description: 'The document.', json: DocumentDetail } },
      errors: [400, 404],
    },
    {
      handler: [DocumentsController, 'delete'],
      operationId: 'deleteDocument',
      tag: 'documents',
      summary: 'Delete a document',
      description: 'Removes the document, its bytes, chunks and index entries (on every retrieval replica); work in progress on it stops.',
      pathParams: { id: DocumentId },
      responses: { 204: { description: 'Deleted.' } },
      errors: [400, 404],
    },
    {
      handler: [JobsController, 'get'],
      operationId: 'getJob',
      tag: 'jobs',
      summary: 'Get an ingestion job',
      description: 'Status, stage (parse, chunk, embed, index), percent and attempts of the job an upload returned.',
      pathParams: { id: JobId },
      responses: { 200: { description: 'The job.', json: JobView } },
      errors: [404],
    },
    {
      handler: [JobsController, 'events'],
      operationId: 'streamJobEvents',
      tag: 'jobs',
      summary: "Follow a job's progress (server-sent events)",
      description:
        'A `progress` event at once and on every change of status, stage or percent, then one `done` event with the final state and the end of the stream ' +
        `(an \`error\` event if the document is deleted meanwhile). At most SSE_MAX_STREAMS_PER_KEY (${limits.SSE_MAX_STREAMS_PER_KEY} here) open per API key (per tenant behind a trusted proxy) and gateway: 429 past it.`,
      pathParams: { id: JobId },
      responses: { 200: { description: 'The event stream.', events: JOB_STREAM_EVENTS } },
      errors: [404, 429],
    },
    {
      handler: [JobsController, 'cancel'],
      operationId: 'cancelJob',
      tag: 'jobs',
      summary: 'Cancel an ingestion job',
      description: 'Stops the work: the document becomes `cancelled` at once and no partial chunks remain. A finished job cannot be cancelled (409).',
      pathParams: { id: JobId },
      responses: { 202: { description: 'Cancelled; the job as it is now.', json: JobView } },
      errors: [404, 409],
    },
    {
      handler: [QueryController, 'ask'],
      operationId: 'query',
      tag: 'query',
      summary: 'Ask a question',
      description:
        'Searches the tenant\'s documents (hybrid BM25 + vectors), answers from the passages found and cites them. ' +
        `JSON bodies are limited to ${mib(JSON_BODY_LIMIT_BYTES)}.`,
      body: { json: QueryBody },
      responses: {
        200: {
          description:
            'The answer with its citations. A question the tenant asked before on the same documents (same normalised text, filters and topK, no conversationId) is answered from the answer cache. ' +
            'With `"stream": true` (or `Accept: text/event-stream`) the answer comes as server-sent events while it is made: `step`, `sources`, `token` deltas, `citation`, then `done` with the whole reply (a cached answer streams too); ' +
            `a client that disconnects cancels the work. At most SSE_MAX_STREAMS_PER_KEY (${limits.SSE_MAX_STREAMS_PER_KEY} here) streamed answers open per API key and gateway: 429 past it.`,
          json: QueryReply,
          events: QUERY_STREAM_EVENTS,
          headers: {
            'x-quarry-cache': {
              description: '`hit`: from the answer cache; `miss`: the agent answered (and the answer was cached); `bypass`: not cacheable (a conversation continues, or the cache is off).',
              schema: { type: 'string', enum: ['hit', 'miss', 'bypass'] },
            },
          },
        },
      },
      errors: [400, 404, 413, 502],
    },
    {
      handler: [QueriesController, 'trace'],
      operationId: 'getQueryTrace',
      tag: 'query',
      summary: "Get a query's audit trail",
      description:
        'What the agent did for the query (`queryId` of its reply), in order and why: nodes, decisions, the plan, each tool call with its input and result, model calls with tokens, evaluations and refinements; ' +
        'the sources cited and, per answer sentence, the passage that supports it. Written just behind the answer, so a trace may take a moment to show.',
      pathParams: { id: QueryId },
      responses: { 200: { description: 'The trace.', json: QueryTraceView } },
      errors: [400, 404],
    },
    {
      handler: [QueriesController, 'report'],
      operationId: 'getQueryReport',
      tag: 'query',
      summary: "A query's audit report (Markdown or HTML)",
      description:
        'The trace as a readable document: question, answer, route, generator, timings and tokens, evaluation scores, the plan and every step, the sources used, and per answer sentence the passage that supports it or a mark that none does. ' +
        'Markdown by default; HTML with `?format=html` or `Accept: text/html` (every value escaped, served with a Content-Security-Policy that lets nothing load or run).',
      pathParams: { id: QueryId },
      query: ReportQuery,
      responses: {
        200: {
          description: 'The report.',
          content: { 'text/markdown; charset=utf-8': { schema: { type: 'string' } }, 'text/html; charset=utf-8': { schema: { type: 'string' } } },
        },
      },
      errors: [400, 404],
    },
    {
      handler: [ConversationsController, 'list'],
      operationId: 'listConversations',
      tag: 'conversations',
      summary: "List the tenant's conversations",
      description: 'The most recently active first, a page at a time (like the documents list). A conversation starts with a question asked without `conversationId`.',
      query: ListConversationsQuery,
      responses: { 200: { description: 'One page.', json: ConversationPage } },
      errors: [400],
    },
    {
      handler: [ConversationsController, 'get'],
      operationId: 'getConversation',
      tag: 'conversations',
      summary: 'Get a conversation',
      description: 'Its messages oldest first, each answer with the passages it cites. An exchange is written just behind its answer, so the latest one may take a moment to show.',
      pathParams: { id: ConversationId },
      responses: { 200: { description: 'The conversation.', json: ConversationDetail } },
      errors: [400, 404],
    },
    {
      handler: [ConversationsController, 'delete'],
      operationId: 'deleteConversation',
      tag: 'conversations',
      summary: 'Delete a conversation',
      description: 'Removes the conversation and all its messages; it can no longer be continued (`POST /api/query` with its id answers 404).',
      pathParams: { id: ConversationId },
      responses: { 204: { description: 'Deleted.' } },
      errors: [400, 404],
    },
    {
      handler: [OpenAiController, 'models'],
      operationId: 'openAiListModels',
      tag: 'openai',
      summary: 'List models (OpenAI-compatible)',
      description: 'The one model, `quarry`: answers from the tenant\'s documents with citations. Errors in OpenAI\'s shape.',
      responses: { 200: { description: 'The models.', json: ModelList }, ...openAiErrors(401, 429, 500, 503) },
      errors: [],
    },
    {
      handler: [OpenAiController, 'complete'],
      operationId: 'openAiChatCompletion',
      tag: 'openai',
      summary: 'Chat completion (OpenAI-compatible)',
      description:
        'For stock OpenAI clients, with the API key as `Authorization: Bearer`. The last message is the question, earlier user and assistant messages its history; system messages are ignored. ' +
        'The content carries inline `[n]` markers and ends with a "Sources:" list; `citations` holds them structured. `stream: true` sends `chat.completion.chunk` objects then `data: [DONE]` ' +
        '(`stream_options.include_usage` adds a usage chunk); a client that disconnects cancels the work. n>1, tools and non-text response formats are refused (400). Errors in OpenAI\'s shape.',
      body: { json: ChatCompletionBody },
      responses: {
        200: { description: 'The completion, or (`stream: true`) its chunks as server-sent events.', json: ChatCompletion, events: CHAT_STREAM_EVENTS },
        ...openAiErrors(400, 401, 404, 413, 429, 500, 502, 503),
      },
      errors: [],
    },
    {
      handler: [TasksController, 'submit'],
      operationId: 'submitTask',
      tag: 'tasks',
      summary: 'Submit a background task',
      description:
        'Validated per type (unknown types and params a type does not take are 400). Runs at its priority (critical, high, normal, low; in submission order within one), ' +
        'after its dependencies reach their required status (`waiting` until then; a dependency that ends otherwise fails it, naming the dependency), at `runAt`, or at every `cron` occurrence (UTC) until cancelled. ' +
        'Each run is stopped after `timeoutSeconds` ("timed out after N s"); a failed run is retried `maxRetries` times with exponential backoff (2 s, 4 s, 8 s …). ' +
        'The same `idempotencyKey` (or `Idempotency-Key` header) again returns the task it created (200).',
      body: { json: SubmitTaskBody },
      responses: {
        201: { description: 'Created.', json: TaskReply },
        200: { description: 'The idempotency key named a task already submitted: that task.', json: TaskReply },
      },
      errors: [400, 503],
    },
    {
      handler: [TasksController, 'list'],
      operationId: 'listTasks',
      tag: 'tasks',
      summary: "List the tenant's tasks",
      description: 'Newest first, a page at a time (`after` = the previous page\'s `nextAfter`), optionally by status and type.',
      query: ListTasksQuery,
      responses: { 200: { description: 'One page.', json: TaskPage } },
      errors: [400],
    },
    {
      handler: [TasksController, 'stats'],
      operationId: 'taskStats',
      tag: 'tasks',
      summary: "The tenant's tasks counted",
      description: 'Tasks per status and per type, and the run time of completed ones.',
      responses: { 200: { description: 'The counts.', json: TaskStats } },
      errors: [],
    },
    {
      handler: [TasksController, 'get'],
      operationId: 'getTask',
      tag: 'tasks',
      summary: 'Get a task',
      description: 'Status, progress, result or error, attempts, timings and the last run\'s wall and CPU time.',
      pathParams: { id: TaskId },
      responses: { 200: { description: 'The task.', json: TaskReply } },
      errors: [400, 404],
    },
    {
      handler: [TasksController, 'cancel'],
      operationId: 'cancelTask',
      tag: 'tasks',
      summary: 'Cancel a task',
      description: 'A pending, scheduled, waiting or running task is cancelled; a running one is stopped on whichever task-scheduler replica runs it. A task that has already ended is returned as it is.',
      pathParams: { id: TaskId },
      responses: { 200: { description: 'The task as it now stands.', json: TaskReply } },
      errors: [400, 404, 503],
    },
    {
      handler: [TasksController, 'events'],
      operationId: 'streamTaskEvents',
      tag: 'tasks',
      summary: "Follow a task (server-sent events)",
      description:
        `A \`task\` event at once and whenever status, progress or attempts change, then \`done\` once it has ended. At most SSE_MAX_STREAMS_PER_KEY (${limits.SSE_MAX_STREAMS_PER_KEY} here) open per API key and gateway: 429 past it.`,
      pathParams: { id: TaskId },
      responses: { 200: { description: 'The event stream.', events: TASK_STREAM_EVENTS } },
      errors: [400, 404, 429],
    },
    {
      handler: [KeysController, 'create'],
      operationId: 'createApiKey',
      tag: 'keys',
      summary: 'Create an API key',
      description:
        "A new key of the caller's tenant with a role no higher than the caller's own (403 otherwise). The secret (`key`) is in this answer only: only its hash is stored. " +
        'Keys for other tenants are made with the operator CLI (`npm run keys -- create --tenant … --role …`).',
      body: { json: CreateApiKeyBody },
      responses: { 201: { description: 'The key, with its secret.', json: CreatedApiKey } },
      errors: [400],
    },
    {
      handler: [KeysController, 'list'],
      operationId: 'listApiKeys',
      tag: 'keys',
      summary: "List the tenant's API keys",
      description: 'Newest first, revoked and expired ones included; never the secrets.',
      responses: { 200: { description: 'The keys.', json: ApiKeyList } },
      errors: [],
    },
    {
      handler: [KeysController, 'revoke'],
      operationId: 'revokeApiKey',
      tag: 'keys',
      summary: 'Revoke an API key',
      description: 'Takes effect at once on every gateway replica (the key of this request may revoke itself).',
      pathParams: { id: ApiKeyId },
      responses: { 204: { description: 'Revoked.' } },
      errors: [400, 404],
    },
    {
      handler: [CacheStatsController, 'stats'],
      operationId: 'cacheStats',
      tag: 'operations',
      summary: "The gateway's cache figures (admin)",
      description: 'Per kind and tier: hits, misses, hit rate, latency percentiles, entries, bytes, evictions; each tier\'s health. Figures of the gateway process that answers.',
      responses: { 200: { description: 'The figures.', json: CacheStatsReply } },
      errors: [],
    },
    {
      handler: [SystemController, 'alerts'],
      operationId: 'listSystemAlerts',
      tag: 'operations',
      summary: 'Resource alerts of every service (operators)',
      description:
        "Each service's resource monitor (CPU, memory, event-loop delay, disk against the RESOURCE_* thresholds) stores every level change: one entry per stretch of a resource at a level, newest first. " +
        '`state=active` (the default) lists those not cleared; `since` keeps those in force at some moment since then. The installation\'s data: for operators only (admin keys of OPERATOR_TENANT; 403 for any other admin key).',
      query: ListAlertsQuery,
      responses: { 200: { description: 'The alerts.', json: AlertList } },
      errors: [400],
    },
    {
      handler: [AnalyticsController, 'queries'],
      operationId: 'queryAnalytics',
      tag: 'analytics',
      summary: "The tenant's questions over a window (admin)",
      description: 'Volume, answer-time percentiles (p50, p95, p99), the share answered without a citation, the most asked questions, and the same per UTC day, over the last `days` days. Admin keys only: it shows what everyone of the tenant asked.',
      query: QueryAnalyticsQuery,
      responses: { 200: { description: 'The figures.', json: QueryAnalytics } },
      errors: [400],
    },
    {
      handler: [AnalyticsController, 'documents'],
      operationId: 'documentAnalytics',
      tag: 'analytics',
      summary: "Which of the tenant's documents its answers cite (admin)",
      description: 'The documents cited by the most answers over the last `days` days, and the indexed documents no answer of the window cited.',
      query: DocumentAnalyticsQuery,
      responses: { 200: { description: 'The figures.', json: DocumentAnalytics } },
      errors: [400],
    },
    {
      handler: [AnalyticsController, 'systemFigures'],
      operationId: 'systemAnalytics',
      tag: 'analytics',
      summary: "The installation's load (operators)",
      description: "Jobs per state of every queue (counts only, every tenant's together), the caller tenant's tasks counted, this gateway's cache hit rates, and the resource alerts active now. For operators only (admin keys of OPERATOR_TENANT; 403 for any other admin key).",
      responses: { 200: { description: 'The figures.', json: SystemAnalytics } },
      errors: [],
    },
    {
      method: 'GET',
      path: '/health/live',
      access: 'public',
      operationId: 'live',
      tag: 'operations',
      summary: 'Liveness',
      description: 'Outside /api and without a key, on every service.',
      responses: { 200: { description: 'The process is up.', json: LiveReply } },
      errors: [],
    },
    {
      method: 'GET',
      path: '/health/ready',
      access: 'public',
      operationId: 'ready',
      tag: 'operations',
      summary: 'Readiness',
      description: 'Postgres and Redis answer and the process is not shutting down. Outside /api and without a key, on every service.',
      responses: {
        200: { description: 'Ready.', json: ReadinessReport },
        503: { description: 'Not ready: a dependency is down or the process is shutting down.', json: ReadinessReport },
      },
      errors: [],
    },
    {
      method: 'GET',
      path: '/health/deep',
      access: 'public',
      operationId: 'deepHealth',
      tag: 'operations',
      summary: 'Deep health',
      description:
        "Every dependency the service needs to do its work: Postgres, Redis and its maxmemory-policy (noeviction), a consumer on each queue it sends to, its own queue workers, and where they apply the index, Qdrant and the model endpoints. " +
        'For operators and diagnosis, not for probes (a consumer down elsewhere fails it here too). Outside /api and without a key, on every service.',
      responses: {
        200: { description: 'Every check passed.', json: DeepHealthReport },
        503: { description: 'At least one check failed; its entry says why.', json: DeepHealthReport },
      },
      errors: [],
    },
    {
      method: 'GET',
      path: '/metrics',
      access: 'public',
      operationId: 'metrics',
      tag: 'operations',
      summary: 'Prometheus metrics',
      description: 'Outside /api and without a key, on every service; keep it off the public network.',
      responses: { 200: { description: 'The Prometheus text format.', content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } } } },
      errors: [],
    },
    {
      method: 'GET',
      path: OPENAPI_JSON_PATH,
      access: 'public',
      operationId: 'openapi',
      correlated: false,
      tag: 'documentation',
      summary: 'This OpenAPI document',
      description: 'Public: no key needed.',
      responses: { 200: { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
      errors: [],
    },
    {
      method: 'GET',
      path: DOCS_UI_PATH,
      access: 'public',
      operationId: 'docs',
      correlated: false,
      tag: 'documentation',
      summary: 'Browsable API documentation',
      description: `Swagger UI over this document, served with its assets (under ${DOCS_UI_PATH}/), so it works offline. Public: no key needed.`,
      responses: { 200: { description: 'The HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } },
      errors: [],
    },
  ];
}
