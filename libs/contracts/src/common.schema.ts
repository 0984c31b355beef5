import { z } from 'zod';

/** Tenants are slugs: stable, readable in logs and URLs. */
export const TenantId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'tenant id must be 1-63 chars of a-z, 0-9 and "-", starting with a letter or digit');

/** Every payload may carry the correlation id of the request that caused it, for log tracing. */
export const JobMeta = z.object({ correlationId: z.string().max(128).optional() });

export const SearchFilters = z
  .object({
    tags: z.array(z.string().min(1).max(64)).max(32).optional(),
    folder: z.string().min(1).max(512).optional(),
    documentIds: z.array(z.uuid()).max(1000).optional(),
  })
  .strict();
export type SearchFilters = z.infer<typeof SearchFilters>;

export const DocumentStatus = z.enum(['queued', 'processing', 'indexed', 'failed', 'cancelled']);
export type DocumentStatus = z.infer<typeof DocumentStatus>;
