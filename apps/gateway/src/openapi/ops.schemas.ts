import { z } from 'zod';

// The replies of the ops routes every service has (libs/service-kit OpsController), as the
// gateway's document describes them.

export const LiveReply = z.object({ status: z.literal('ok') }).meta({ description: 'The process is up.', examples: [{ status: 'ok' }] });

export const ReadinessReport = z
  .object({
    ready: z.boolean(),
    checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })).meta({
      description: 'One entry per dependency (postgres, redis) and the process itself (not ready while shutting down).',
    }),
    details: z
      .object({
        cache: z
          .array(
            z.object({
              tier: z.enum(['memory', 'redis', 'postgres']),
              state: z.enum(['up', 'degraded', 'down']),
              since: z.string().optional(),
            }),
          )
          .meta({ description: "The cache's tiers: a tier that is down is skipped (and reported here), never a reason to be unready." }),
      })
      .partial()
      .optional(),
  })
  .meta({
    description: 'Whether the service can take traffic.',
    examples: [
      {
        ready: true,
        checks: { postgres: { ok: true }, redis: { ok: true }, process: { ok: true } },
        details: { cache: [{ tier: 'memory', state: 'up' }, { tier: 'redis', state: 'up' }, { tier: 'postgres', state: 'up' }] },
      },
    ],
  });

const DeepCheckResult = z.object({
  ok: z.boolean(),
  error: z.string().optional().meta({ description: 'Why the check failed: one short line, URLs redacted, never a secret.' }),
  detail: z.union([z.string(), z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))]).optional(),
});

export const DeepHealthReport = z
  .object({
    healthy: z.boolean(),
    checks: z.record(z.string(), DeepCheckResult).meta({
      description:
        'One entry per dependency: postgres, redis, redis-maxmemory-policy (noeviction, as BullMQ needs), consumers.<queue> for each queue the service sends to, worker.<queue> for each it consumes, ' +
        'and where they apply index and qdrant (retrieval), llm (agent, ingestion) and embeddings (ingestion, retrieval) — ok with detail "not configured" while the local defaults are in use.',
    }),
  })
  .meta({
    description: 'Whether every dependency the service needs to do its work answers.',
    examples: [
      {
        healthy: false,
        checks: {
          postgres: { ok: true },
          redis: { ok: true },
          'redis-maxmemory-policy': { ok: true, detail: 'noeviction' },
          'consumers.ingestion': { ok: true, detail: { workers: 2 } },
          'consumers.agent': { ok: false, error: 'no worker consumes queue agent: jobs sent there wait until its service runs', detail: { workers: 0 } },
          'consumers.task-scheduler': { ok: true, detail: { workers: 1 } },
        },
      },
    ],
  });
