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
