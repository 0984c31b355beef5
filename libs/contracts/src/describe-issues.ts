import type { z } from 'zod';

/** One readable line from a validation error: `field: problem; other.field: problem`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'value'}: ${issue.message}`).join('; ');
}
