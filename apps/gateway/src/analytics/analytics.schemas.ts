import { z } from 'zod';
import { TaskStats } from '../tasks/tasks.schemas';
import { AlertView } from '../system/system.schemas';

// The shapes of the analytics routes: what the controller validates and what it answers. The
// OpenAPI document (apps/gateway/src/openapi) is generated from these very objects.

// ---- requests -------------------------------------------------------------------------------

const Days = z.coerce.number().int().min(1).max(365).default(30).meta({ description: 'The window: the last this many days (24 h each, up to now).' });

export const QueryAnalyticsQuery = z.object({
  days: Days,
  top: z.coerce.number().int().min(1).max(100).default(10).meta({ description: 'How many of the most asked questions.' }),
});
export type QueryAnalyticsQuery = z.output<typeof QueryAnalyticsQuery>;

export const DocumentAnalyticsQuery = z.object({
  days: Days,
  limit: z.coerce.number().int().min(1).max(100).default(10).meta({ description: 'How many documents in each list.' }),
});
export type DocumentAnalyticsQuery = z.output<typeof DocumentAnalyticsQuery>;

// ---- responses ------------------------------------------------------------------------------

const Latency = z
  .object({ p50: z.number().nullable(), p95: z.number().nullable(), p99: z.number().nullable() })
  .meta({ description: 'Answer time percentiles in milliseconds (as the agent measured it; the answer cache\'s own for cached answers); null without questions.' });

const Window = {
  days: z.number().int(),
  since: z.iso.datetime().meta({ description: 'The start of the window.' }),
};

export const QueryAnalytics = z
  .object({
    ...Window,
    queries: z.number().int().meta({ description: 'Questions asked in the window (cached answers included).' }),
    noAnswer: z.number().int().meta({ description: 'Questions answered without a single citation: the documents held nothing to answer from.' }),
    noAnswerRate: z.number().nullable().meta({ description: '`noAnswer / queries`; null without questions.' }),
    latencyMs: Latency,
    topQuestions: z.array(z.object({ question: z.string(), asked: z.number().int() })).meta({ description: 'The most asked, grouped with case and spacing folded, each in its most asked phrasing.' }),
    byDay: z
      .array(z.object({ day: z.iso.date(), queries: z.number().int(), noAnswer: z.number().int(), latencyMs: Latency }))
      .meta({ description: 'Per UTC calendar day, oldest first, days without questions included; the first day counts from `since`.' }),
  })
  .meta({
    description: "The tenant's questions over the window.",
    examples: [
      {
        days: 7,
        since: '2025-01-08T09:30:00.000Z',
        queries: 3,
        noAnswer: 1,
        noAnswerRate: 0.3333,
        latencyMs: { p50: 14.2, p95: 37.9, p99: 40.3 },
        topQuestions: [{ question: 'How many vacation days do we get?', asked: 2 }],
        byDay: [
          { day: '2025-01-14', queries: 0, noAnswer: 0, latencyMs: { p50: null, p95: null, p99: null } },
          { day: '2025-01-15', queries: 3, noAnswer: 1, latencyMs: { p50: 14.2, p95: 37.9, p99: 40.3 } },
        ],
      },
    ],
  });
export type QueryAnalytics = z.output<typeof QueryAnalytics>;

export const DocumentAnalytics = z
  .object({
    ...Window,
    mostCited: z
      .array(z.object({ documentId: z.uuid(), filename: z.string(), answers: z.number().int().meta({ description: 'Answers that cited it.' }), lastCitedAt: z.iso.datetime() }))
      .meta({ description: 'The documents cited by the most answers in the window, most first.' }),
    neverCited: z
      .object({
        total: z.number().int().meta({ description: 'Indexed documents no answer in the window cited.' }),
        items: z.array(z.object({ documentId: z.uuid(), filename: z.string(), indexedAt: z.iso.datetime().nullable() })).meta({ description: 'The first `limit` of them, longest indexed first.' }),
      })
      .meta({ description: "Indexed documents no answer of the window cited: candidates for review (or for removal)." }),
  })
  .meta({
    description: "Which of the tenant's documents its answers use.",
    examples: [
      {
        days: 30,
        since: '2024-12-16T09:30:00.000Z',
        mostCited: [{ documentId: '2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f', filename: 'handbook.md', answers: 12, lastCitedAt: '2025-01-15T09:29:00.000Z' }],
        neverCited: { total: 1, items: [{ documentId: '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d', filename: 'old-policy.pdf', indexedAt: '2024-11-02T10:00:00.000Z' }] },
      },
    ],
  });
export type DocumentAnalytics = z.output<typeof DocumentAnalytics>;

const QueueDepth = z.object({
  queue: z.string(),
  waiting: z.number().int(),
  prioritized: z.number().int().meta({ description: 'Waiting jobs that carry a priority (a tenant\'s N-th waiting document, prioritised tasks); BullMQ counts them apart from `waiting`.' }),
  active: z.number().int(),
  delayed: z.number().int(),
  'waiting-children': z.number().int(),
  paused: z.number().int(),
  failed: z.number().int().meta({ description: 'Kept failed jobs (each contract bounds how many are kept).' }),
  completed: z.number().int().meta({ description: 'Kept completed jobs (bounded likewise).' }),
});

const CacheHitRates = z.object({
  service: z.string(),
  requests: z.number().int(),
  hitRate: z.number(),
  kinds: z.array(z.object({ kind: z.string(), requests: z.number().int(), hitRate: z.number() })),
});

export const SystemAnalytics = z
  .object({
    queues: z.array(QueueDepth).meta({ description: 'Jobs per state of every Quarry queue, all tenants together (counts only).' }),
    tasks: TaskStats,
    cache: CacheHitRates.meta({ description: "This gateway process's cache hit rates since it started (every replica has its own; GET /api/admin/cache/stats has the detail)." }),
    resources: z.object({ active: z.array(AlertView) }).meta({ description: 'The resource alerts active now (GET /api/system/alerts has their history).' }),
  })
  .meta({
    description: "The installation's load: queues, the caller tenant's tasks, the gateway's cache, active resource alerts.",
    examples: [
      {
        queues: [{ queue: 'ingestion', waiting: 0, prioritized: 42, active: 4, delayed: 0, 'waiting-children': 0, paused: 0, failed: 1, completed: 250 }],
        tasks: { byStatus: { completed: 3, scheduled: 1 }, byType: { 'cache.warm': { completed: 3 }, 'retention.purge': { scheduled: 1 } }, runMs: { p50: 120, p95: 900 } },
        cache: { service: 'gateway', requests: 1000, hitRate: 0.812, kinds: [{ kind: 'answer', requests: 1000, hitRate: 0.812 }] },
        resources: { active: [] },
      },
    ],
  });
export type SystemAnalytics = z.output<typeof SystemAnalytics>;
