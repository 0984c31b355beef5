import { ErrorCode, describeIssues } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { z } from 'zod';

/** Validates a request body; the error lists every bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  throw new DomainError(ErrorCode.InvalidPayload, describeIssues(parsed.error));
}
