import { z } from 'zod';
import { JobMeta } from './common.schema';

/** Housekeeping run by the task-scheduler on a repeating schedule (or put on the queue by hand). */
export const PurgeQueryLogPayload = JobMeta.extend({
  olderThanDays: z.number().int().min(1).max(3650).optional(),
});
export type PurgeQueryLogPayload = z.infer<typeof PurgeQueryLogPayload>;
