import { z } from 'zod';
import { JobMeta, TenantId } from './common.schema';

/** Ask ingestion to parse, chunk, embed and index a stored document. Fire-and-forget. */
export const IngestDocumentPayload = JobMeta.extend({
  tenantId: TenantId,
  documentId: z.uuid(),
  sha256: z.string().regex(/^[a-f0-9]{64}$/, 'sha256 must be 64 lowercase hex characters'),
});
export type IngestDocumentPayload = z.infer<typeof IngestDocumentPayload>;

/** The deterministic job id (BullMQ forbids ":" in custom ids) makes re-delivery of the same content harmless. */
export function ingestJobId(documentId: string, sha256: string): string {
  return `ingest-${documentId}-${sha256}`;
}
