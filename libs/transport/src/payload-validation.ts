import { type AnyJobContract, ErrorCode, describeIssues } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { z } from 'zod';

/** Validates data against a contract schema; the error names the job and every bad field. */
export function validateAgainst<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new DomainError(ErrorCode.InvalidPayload, `${what} is invalid: ${describeIssues(parsed.error)}`);
}

export function validatePayload(contract: AnyJobContract, jobName: string, data: unknown): unknown {
  return validateAgainst(contract.payload, data, `payload of job "${jobName}"`);
}
