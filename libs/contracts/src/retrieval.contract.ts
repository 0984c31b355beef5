import { z } from 'zod';
import { JobMeta, SearchFilters, TenantId, safeText } from './common.schema';

export const SearchChunksRequest = JobMeta.extend({
  tenantId: TenantId,
  query: safeText(z.string().trim().min(1, 'query must not be empty').max(4000)),
  topK: z.number().int().min(1).max(200).default(8),
  filters: SearchFilters.optional(),
  /** `hybrid` (default) fuses BM25 and vectors; `lexical` and `dense` search one side (evaluation, debugging). */
  mode: z.enum(['hybrid', 'lexical', 'dense']).default('hybrid'),
  /** Override the fusion (default: weighted standardised scores, dense weight 0.2). */
  fusion: z
    .object({ method: z.enum(['weighted', 'rrf']), denseWeight: z.number().min(0).max(1).optional() })
    .strict()
    .optional(),
  /**
   * Other phrasings of the query (e.g. written by a language model). Each is searched like the
   * query, and all rankings are fused by reciprocal rank: multi-query retrieval.
   */
  variants: z.array(safeText(z.string().trim().min(1).max(4000))).max(4).optional(),
  /** Maximal marginal relevance: trade relevance for variety (λ 1 = off, 0.5 = balanced). */
  diversity: z.object({ lambda: z.number().min(0).max(1) }).strict().optional(),
});
export type SearchChunksRequest = z.input<typeof SearchChunksRequest>;

export const ChunkProvenance = z.record(z.string(), z.unknown());

export const SearchHit = z.object({
  chunkId: z.uuid(),
  documentId: z.uuid(),
  filename: z.string(),
  ordinal: z.number().int(),
  text: z.string(),
  score: z.number(),
  lexicalScore: z.number().optional(),
  vectorScore: z.number().optional(),
  provenance: ChunkProvenance,
});
export type SearchHit = z.infer<typeof SearchHit>;

export const SearchChunksReply = z.object({
  hits: z.array(SearchHit),
  tookMs: z.number(),
  indexedChunks: z.number().int(),
});
export type SearchChunksReply = z.infer<typeof SearchChunksReply>;
