import { createHash } from 'node:crypto';
import type { Schemas } from '@qdrant/js-client-rest';
import { normaliseFolder } from '../search-filters';
import type { SearchFilters } from '../search-index.port';

/** Named dense vector (the embedding), compared by cosine similarity. */
export const DENSE_VECTOR = 'dense';
/** Named sparse vector (client-side BM25 term weights; Qdrant applies IDF). */
export const SPARSE_VECTOR = 'bm25';

/** Payload keys of every point Quarry writes. */
export const PAYLOAD = {
  tenantId: 'tenant_id',
  documentId: 'document_id',
  chunkId: 'chunk_id',
  text: 'text',
  filename: 'filename',
  ordinal: 'ordinal',
  provenance: 'provenance',
  tags: 'tags',
  /** The document's own folder, normalised ("/a/b"). */
  folder: 'folder',
  /** The folder and every ancestor ("/", "/a", "/a/b"), so a folder filter is one exact keyword match. */
  folderPath: 'folder_path',
} as const;

/** What a search asks Qdrant to send back: exactly what a `SearchHit` needs. */
export const HIT_PAYLOAD_FIELDS = [
  PAYLOAD.chunkId,
  PAYLOAD.documentId,
  PAYLOAD.filename,
  PAYLOAD.text,
  PAYLOAD.ordinal,
  PAYLOAD.provenance,
];

export const DEFAULT_COLLECTION_PREFIX = 'quarry';

/**
 * One collection per embedding space: vectors of different models (or sizes) must never be
 * compared, so the model and dimension are part of the name — switching models starts a new
 * collection instead of silently mixing spaces. Characters other than letters, digits, "_" and "-"
 * become "_"; when that changed the model name, a hash of the original keeps two models that
 * differ only in punctuation ("org/model" vs "org.model") apart.
 * "text-embedding-3-small", 1536 → "quarry_text-embedding-3-small_1536".
 */
export function qdrantCollectionName(embeddingModel: string, dimension: number, prefix = DEFAULT_COLLECTION_PREFIX): string {
  if (!Number.isInteger(dimension) || dimension <= 0) throw new RangeError(`dimension must be a positive integer, got ${dimension}`);
  const model = embeddingModel.trim();
  if (model.length === 0) throw new RangeError('embedding model name must not be empty');
  const slug = sanitise(model).slice(0, 120);
  const suffix = slug === model ? '' : `_${createHash('sha256').update(model).digest('hex').slice(0, 8)}`;
  const head = sanitise(prefix);
  return `${head.length > 0 ? `${head}_` : ''}${slug}_${dimension}${suffix}`;
}

function sanitise(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_-]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_|_$/g, '');
}

/** The collection: a named dense vector and a named sparse vector with server-side IDF. */
export function collectionConfig(dimension: number): Schemas['CreateCollection'] {
  return {
    vectors: { [DENSE_VECTOR]: { size: dimension, distance: 'Cosine' } },
    sparse_vectors: { [SPARSE_VECTOR]: { modifier: 'idf' } },
  };
}

/**
 * Payload indexes, all keyword. `tenant_id` is marked `is_tenant` so Qdrant co-locates each
 * tenant's points and plans tenant-filtered searches accordingly (every request filters on it).
 */
export const PAYLOAD_INDEXES: readonly { field_name: string; field_schema: Schemas['PayloadFieldSchema'] }[] = [
  { field_name: PAYLOAD.tenantId, field_schema: { type: 'keyword', is_tenant: true } },
  { field_name: PAYLOAD.documentId, field_schema: 'keyword' },
  { field_name: PAYLOAD.tags, field_schema: 'keyword' },
  { field_name: PAYLOAD.folderPath, field_schema: 'keyword' },
];

/** "/a/b" → ["/", "/a", "/a/b"]; the input is normalised first ("a//b/" is "/a/b"). */
export function folderAncestors(folder: string): string[] {
  const normalised = normaliseFolder(folder);
  const ancestors = ['/'];
  if (normalised === '/') return ancestors;
  let path = '';
  for (const segment of normalised.slice(1).split('/')) {
    path += `/${segment}`;
    ancestors.push(path);
  }
  return ancestors;
}

/**
 * The Qdrant filter of a search: always the tenant, plus every present filter (all must hold).
 * `undefined` when a present filter is an empty list: it matches nothing, so there is nothing to
 * ask Qdrant (see `SearchFilters`).
 */
export function searchFilter(tenantId: string, filters: SearchFilters | undefined): Schemas['Filter'] | undefined {
  const must: Schemas['FieldCondition'][] = [{ key: PAYLOAD.tenantId, match: { value: tenantId } }];
  if (filters?.tags !== undefined) {
    if (filters.tags.length === 0) return undefined;
    // On an array field, `any` holds when at least one element is among the values.
    must.push({ key: PAYLOAD.tags, match: { any: [...filters.tags] } });
  }
  if (filters?.documentIds !== undefined) {
    if (filters.documentIds.length === 0) return undefined;
    must.push({ key: PAYLOAD.documentId, match: { any: [...filters.documentIds] } });
  }
  if (filters?.folder !== undefined) {
    must.push({ key: PAYLOAD.folderPath, match: { value: normaliseFolder(filters.folder) } });
  }
  return { must };
}

/** All points of one document of one tenant (for replacement and removal). */
export function documentFilter(tenantId: string, documentId: string): Schemas['Filter'] {
  return {
    must: [
      { key: PAYLOAD.tenantId, match: { value: tenantId } },
      { key: PAYLOAD.documentId, match: { value: documentId } },
    ],
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Qdrant point ids are unsigned integers or UUIDs. Chunk ids are UUIDs already and are used as
 * they are (lower-cased); any other id is mapped to a name-based UUID (SHA-1, RFC 4122 version 5
 * layout), so it stays stable. The chunk id itself always travels in the payload.
 */
export function pointId(chunkId: string): string {
  if (UUID.test(chunkId)) return chunkId.toLowerCase();
  const hex = createHash('sha1').update(`quarry-chunk:${chunkId}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
