import { z } from 'zod';
import { JobMeta, TenantId } from './common.schema';

/**
 * Fills the answer cache with the answers to a tenant's most asked questions (from the query log),
 * so they are served without a queue hop from the first ask after a deploy, a restart or an index
 * change. Questions already cached under the tenant's current corpus version are skipped; warming
 * writes nothing to the query log. Put on the queue by the task-scheduler (nightly, or when the
 * answer cache's hit rate stays low) or by any producer.
 */
export const WarmAnswersPayload = JobMeta.extend({
  tenantId: TenantId,
  /** How many of the most asked questions (default 100). */
  topN: z.number().int().min(1).max(1000).default(100),
  /** Counted over the query log of the last this many days (default 7). */
  sinceDays: z.number().int().min(1).max(365).default(7),
});
export type WarmAnswersPayload = z.input<typeof WarmAnswersPayload>;

/** What a warming did (the job's return value). */
export const WarmAnswersResult = z.object({
  questions: z.number().int(),
  warmed: z.number().int(),
  alreadyCached: z.number().int(),
  failed: z.number().int(),
  corpusVersion: z.string(),
});
export type WarmAnswersResult = z.infer<typeof WarmAnswersResult>;
