import { z } from 'zod';

// The shapes of the system routes: what the controller validates and what it answers. The OpenAPI
// document (apps/gateway/src/openapi) is generated from these very objects.

// ---- requests -------------------------------------------------------------------------------

export const ListAlertsQuery = z.object({
  state: z.enum(['active', 'all']).default('active').meta({ description: '`active`: alerts not cleared yet; `all`: cleared ones too.' }),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'Only alerts in force at some moment since then (still active, or cleared after it).', examples: ['2025-01-15T00:00:00Z'] }),
  limit: z.coerce.number().int().min(1).max(500).default(100).meta({ description: 'Most alerts returned.' }),
});
export type ListAlertsQuery = z.output<typeof ListAlertsQuery>;

// ---- responses ------------------------------------------------------------------------------

export const AlertView = z
  .object({
    id: z.uuid(),
    service: z.string().meta({ description: 'The service whose resource monitor raised it (ingestion, retrieval, agent, task-scheduler).' }),
    replica: z.string().meta({ description: "The replica's host name (a pod's name in Kubernetes)." }),
    pid: z.number().int(),
    resource: z.string().meta({ description: 'What the monitor samples: `cpu`, `memory`, `eventLoopLag` or `disk`.' }),
    level: z.enum(['warning', 'critical']),
    value: z.number().meta({ description: 'The sample that reached the level: cpu, memory and disk as ratios (0–1), eventLoopLag in seconds.' }),
    threshold: z.number().meta({ description: 'The threshold of that level (RESOURCE_* settings).' }),
    raisedAt: z.iso.datetime(),
    clearedAt: z.iso.datetime().nullable().meta({ description: 'Null while the alert is active.' }),
    clearedValue: z.number().nullable().meta({ description: 'The sample that ended it (null when the process stopped or was restarted).' }),
    clearedBy: z
      .enum(['ok', 'warning', 'critical', 'shutdown', 'restart'])
      .nullable()
      .meta({ description: 'What ended it: the level the resource went to, the process stopping, or a later process on the replica (the earlier one died without clearing it).' }),
  })
  .meta({ description: 'A stretch of one resource of one service process at one alert level.' });

export const AlertList = z
  .object({ items: z.array(AlertView) })
  .meta({
    description: 'Resource alerts of every service, newest first (by when they were raised).',
    examples: [
      {
        items: [
          {
            id: '5f0c8a52-7d1e-4b8e-9a3f-2c6d4e8b1a90',
            service: 'ingestion',
            replica: 'quarry-ingestion-7c9f8-x2k4p',
            pid: 1,
            resource: 'memory',
            level: 'warning',
            value: 0.83,
            threshold: 0.8,
            raisedAt: '2025-01-15T09:30:00.000Z',
            clearedAt: null,
            clearedValue: null,
            clearedBy: null,
          },
        ],
      },
    ],
  });
export type AlertList = z.output<typeof AlertList>;
