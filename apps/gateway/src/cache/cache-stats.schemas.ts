import { z } from 'zod';

// The shape of `GET /api/admin/cache/stats` (libs/cache's CacheStatsReport), for the OpenAPI document.

const Tier = z.enum(['memory', 'redis', 'postgres']);
const Latency = z.object({ samples: z.number().int(), p50: z.number(), p95: z.number(), p99: z.number() }).meta({ description: 'Milliseconds, over the last operations.' });

const TierStats = z.object({
  tier: Tier,
  hits: z.number().int(),
  misses: z.number().int(),
  errors: z.number().int(),
  skipped: z.number().int(),
  hitRate: z.number(),
  latencyMs: z.object({ get: Latency, set: Latency }),
  entries: z.number().int().optional(),
  bytes: z.number().int().optional(),
  evictions: z.number().int(),
  writes: z.object({ ok: z.number().int(), error: z.number().int(), skipped: z.number().int() }),
});

const TierHealth = z.object({
  tier: Tier,
  state: z.enum(['up', 'degraded', 'down']),
  lastError: z.string().optional(),
  since: z.string().optional(),
});

export const CacheStatsReply = z
  .object({
    service: z.string(),
    kinds: z.array(
      z.object({
        kind: z.string(),
        tiers: z.array(TierStats),
        requests: z.number().int(),
        hits: z.number().int(),
        misses: z.number().int(),
        hitRate: z.number(),
        computes: z.number().int(),
        stampedeWaits: z.number().int(),
      }),
    ),
    totals: z.object({
      requests: z.number().int(),
      hits: z.number().int(),
      misses: z.number().int(),
      hitRate: z.number(),
      hitsByTier: z.object({ memory: z.number().int(), redis: z.number().int(), postgres: z.number().int() }),
    }),
    health: z.array(TierHealth),
  })
  .meta({
    description: "This gateway process's cache: per kind and tier, and each tier's health. Counts only, never cached content.",
    examples: [
      {
        service: 'gateway',
        kinds: [
          {
            kind: 'answer',
            tiers: [
              {
                tier: 'memory',
                hits: 812,
                misses: 188,
                errors: 0,
                skipped: 0,
                hitRate: 0.812,
                latencyMs: { get: { samples: 1000, p50: 0.004, p95: 0.009, p99: 0.02 }, set: { samples: 188, p50: 0.006, p95: 0.01, p99: 0.03 } },
                entries: 188,
                bytes: 301_000,
                evictions: 0,
                writes: { ok: 188, error: 0, skipped: 0 },
              },
            ],
            requests: 1000,
            hits: 812,
            misses: 188,
            hitRate: 0.812,
            computes: 0,
            stampedeWaits: 0,
          },
        ],
        totals: { requests: 1000, hits: 812, misses: 188, hitRate: 0.812, hitsByTier: { memory: 812, redis: 0, postgres: 0 } },
        health: [
          { tier: 'memory', state: 'up' },
          { tier: 'redis', state: 'up' },
          { tier: 'postgres', state: 'up' },
        ],
      },
    ],
  });
