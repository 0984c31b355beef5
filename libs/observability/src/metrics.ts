import { withinDeadline } from '@quarry/domain';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Scrape timeouts are usually 10 s; a sample slower than this is skipped rather than holding the whole scrape. */
const SAMPLE_TIMEOUT_MS = 2000;

// Buckets from 1 ms to 30 s: queue round trips sit at the low end, LLM answers at the high end.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The Prometheus metrics of one service process. Names follow Prometheus conventions and are the
 * ones the Grafana dashboard in deploy/grafana queries; every series carries a `service` label.
 */
export class ServiceMetrics {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'quarry_http_request_duration_seconds',
    help: 'HTTP request duration by route and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly jobDuration = new Histogram({
    name: 'quarry_job_duration_seconds',
    help: 'Time a handler spent on one job.',
    labelNames: ['queue', 'job_name', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly jobsTotal = new Counter({
    name: 'quarry_jobs_total',
    help: 'Jobs handled, by outcome.',
    labelNames: ['queue', 'job_name', 'outcome'] as const,
    registers: [this.registry],
  });

  /**
   * Counted by every service for every queue (not only by its consumer), so the backlog of a queue
   * whose consumers are all down is still reported; aggregate with `max by (queue, state)`.
   */
  readonly queueJobs = new Gauge({
    name: 'quarry_queue_jobs',
    help: 'Jobs in a queue, by state (waiting, prioritized, waiting-children, active, delayed, failed); every service reports every queue.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });

  readonly queueOldestWaitingAge = new Gauge({
    name: 'quarry_queue_oldest_waiting_age_seconds',
    help: 'Age of the oldest job among those next to run (wait list and prioritized set); 0 when none wait. Every service reports every queue.',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly jobFailures = new Counter({
    name: 'quarry_job_failures_total',
    help: 'Failed job attempts, by queue and the reason code of the failure (INVALID_PAYLOAD, SERVICE_UNAVAILABLE, INTERNAL …).',
    labelNames: ['queue', 'reason_code'] as const,
    registers: [this.registry],
  });

  readonly httpResponses = new Counter({
    name: 'quarry_http_responses_total',
    help: 'HTTP responses by route and status class (2xx … 5xx); every route starts at zero.',
    labelNames: ['method', 'route', 'status_class'] as const,
    registers: [this.registry],
  });

  readonly serviceReady = new Gauge({
    name: 'quarry_service_ready',
    help: 'Whether this process answers its readiness check (1) or not (0), sampled at each scrape.',
    registers: [this.registry],
  });

  readonly requestReplyDuration = new Histogram({
    name: 'quarry_request_reply_duration_seconds',
    help: 'Client-side round trip of a queue request until its reply (or failure).',
    labelNames: ['job_name', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly indexChunks = new Gauge({
    name: 'quarry_index_chunks',
    help: 'Chunks held by this retrieval replica’s in-process index.',
    registers: [this.registry],
  });

  readonly indexDriftChunks = new Gauge({
    name: 'quarry_index_drift_chunks',
    help: 'Chunks by which this retrieval replica’s index differed from Postgres at the last reconciliation (repaired then).',
    registers: [this.registry],
  });

  readonly indexRepairedDocuments = new Counter({
    name: 'quarry_index_repaired_documents_total',
    help: 'Documents reconciliation reloaded into or removed from this retrieval replica’s index.',
    registers: [this.registry],
  });

  readonly indexCatchUpFailures = new Counter({
    name: 'quarry_index_catchup_failures_total',
    help: 'Failed reads of the index change feed (searches are answered from memory meanwhile).',
    registers: [this.registry],
  });

  readonly indexLastCatchUp = new Gauge({
    name: 'quarry_index_last_catchup_timestamp_seconds',
    help: 'Unix time of this retrieval replica’s last successful read of the index change feed.',
    registers: [this.registry],
  });

  readonly deferredWrites = new Gauge({
    name: 'quarry_deferred_writes',
    help: 'Writes (conversation history, query log) held in memory while the database is unavailable.',
    registers: [this.registry],
  });

  readonly deferredWritesDropped = new Counter({
    name: 'quarry_deferred_writes_dropped_total',
    help: 'Held writes given up on: too many waiting, or the database refused them.',
    registers: [this.registry],
  });

  readonly documentsTotal = new Counter({
    name: 'quarry_documents_total',
    help: 'Documents that finished ingestion, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly ingestionStageDuration = new Histogram({
    name: 'quarry_ingestion_stage_duration_seconds',
    help: 'Time one ingestion step (parse, chunk, embed, index) took for one document, by outcome (completed, failed).',
    labelNames: ['stage', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly ingestionChunks = new Counter({
    name: 'quarry_ingestion_chunks_total',
    help: 'Chunks written to the index by the ingestion index step (a document re-indexed counts again).',
    registers: [this.registry],
  });

  readonly documentsRedriven = new Counter({
    name: 'quarry_documents_redriven_total',
    help: 'Stuck documents the reconciler re-drove, by the step it resumed at and what it found of that step’s job.',
    labelNames: ['stage', 'cause'] as const,
    registers: [this.registry],
  });

  readonly schedulesRestored = new Counter({
    name: 'quarry_job_schedules_restored_total',
    help: 'Repeating jobs registered again because they were missing or changed (e.g. Redis lost its data).',
    labelNames: ['schedule'] as const,
    registers: [this.registry],
  });

  /** Samples taken at scrape time (queue depths, readiness): each is bounded, so one slow part cannot stall the scrape. */
  private readonly samplers: Array<() => Promise<void>> = [];

  constructor(service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    // Counters without labels start at 0 by themselves; labelled ones only once a series exists.
    for (const outcome of ['indexed', 'failed']) this.documentsTotal.inc({ outcome }, 0);
  }

  /** Runs `sample` before each render, at most SAMPLE_TIMEOUT_MS; a sampler that fails or is late leaves its gauges as it left them. */
  beforeRender(sample: () => Promise<void>): void {
    this.samplers.push(sample);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.samplers.map((sample) => withinDeadline(sample(), SAMPLE_TIMEOUT_MS).catch(() => undefined)));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
