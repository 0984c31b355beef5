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
  })
  .meta({
    description: 'Whether the service can take traffic.',
    examples: [{ ready: true, checks: { postgres: { ok: true }, redis: { ok: true }, process: { ok: true } } }],
  });
