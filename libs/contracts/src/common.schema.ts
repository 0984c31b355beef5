import { z } from 'zod';

// Without the `u` flag the pattern sees UTF-16 code units: a high surrogate not followed by a low
// one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a piece of text cannot be accepted, or undefined when it can. Postgres refuses NUL (U+0000)
 * in text, and a lone UTF-16 surrogate is not a character at all (it would be stored as U+FFFD, so
 * the value read back differs from the one sent). Names and labels (`short`: tags, folders,
 * filenames, ids) also refuse the other C0 control characters except tab, line feed and carriage
 * return: they would only ever get there by mistake, and they garble logs and file listings.
 */
export function textProblem(value: string, kind: 'text' | 'short' = 'text'): string | undefined {
  if (value.includes('\u0000')) return 'must not contain NUL characters (U+0000)';
  if (LONE_SURROGATE.test(value)) return 'must be valid Unicode text (it holds a lone UTF-16 surrogate)';
  if (kind === 'short') {
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    const control = /[\u0001-\u0008\u000b\u000c\u000e-\u001f]/.exec(value);
    if (control) return `must not contain control characters (found U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
  }
  return undefined;
}

function refined<S extends z.ZodString>(schema: S, kind: 'text' | 'short'): S {
  return schema.superRefine((value, context) => {
    const problem = textProblem(value, kind);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  });
}

/**
 * Free text (a question, a search query): refuses what Postgres cannot store or what is not
 * Unicode, so bad input fails at validation as INVALID_PAYLOAD (permanent, never retried)
 * instead of deep inside a handler as a database error.
 */
export function safeText<S extends z.ZodString>(schema: S): S {
  return refined(schema, 'text');
}

/** A name or label (tag, folder, filename, id): as `safeText`, and no control characters besides tab, CR and LF. */
export function safeShortText<S extends z.ZodString>(schema: S): S {
  return refined(schema, 'short');
}

/** Tenants are slugs: stable, readable in logs and URLs. */
export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant id must be 1-63 chars of a-z, 0-9 and "-", starting with a letter or digit');

/** Every payload may carry the correlation id of the request that caused it, for log tracing. */
export const JobMeta = z.object({ correlationId: safeShortText(z.string().max(128)).optional() });

export const SearchFilters = z
  .object({
    tags: z.array(safeShortText(z.string().min(1).max(64))).max(32).optional(),
    folder: safeShortText(z.string().min(1).max(512)).optional(),
    documentIds: z.array(z.uuid()).max(1000).optional(),
  })
  .strict();
export type SearchFilters = z.infer<typeof SearchFilters>;

export const DocumentStatus = z.enum(['queued', 'processing', 'indexed', 'failed', 'cancelled']);
export type DocumentStatus = z.infer<typeof DocumentStatus>;
