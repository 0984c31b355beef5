import { z } from 'zod';
import { JobMeta } from './common.schema';
import { ErrorCode } from './error-codes';

/**
 * A batch job carries many requests of one request job and answers each separately: reply `i` is
 * for request `i`, either `{ reply }` or `{ error: { code, message } }`, so one failing request never
 * fails the others. Producers use batches to pay BullMQ's per-job cost (a few Redis scripts, an
 * event, a lock) once for many small requests; each request keeps its own correlation id.
 */
export function batchPayload<P extends z.ZodType>(request: P, maxSize: number) {
  return JobMeta.extend({ requests: z.array(request).min(1).max(maxSize) });
}

export const BatchItemError = z.object({ code: z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]), message: z.string() });
export type BatchItemError = z.infer<typeof BatchItemError>;

export function batchReply<R extends z.ZodType>(reply: R) {
  return z.object({ replies: z.array(z.union([z.object({ reply }), z.object({ error: BatchItemError })])) });
}

export type BatchReplyItem<R> = { reply: R } | { error: BatchItemError };
