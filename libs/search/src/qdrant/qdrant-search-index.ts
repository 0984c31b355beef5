import { QdrantClient, type Schemas } from '@qdrant/js-client-rest';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { DEFAULT_HYBRID_OPTIONS } from '../in-memory-hybrid-index';
import { maximalMarginalRelevance } from '../maximal-marginal-relevance';
import { normaliseFolder } from '../search-filters';
import type {
  FusionOptions,
  IndexedChunk,
  SearchHit,
  SearchIndex,
  SearchIndexStats,
  SearchQuery,
} from '../search-index.port';
import { invalid, validateChunkBatch } from '../validate-chunks';
import { displayUrl, httpStatus, qdrantReason, toDomainError } from './qdrant-errors';
import {
  collectionConfig,
  DENSE_VECTOR,
  documentFilter,
  folderAncestors,
  HIT_PAYLOAD_FIELDS,
  PAYLOAD,
  PAYLOAD_INDEXES,
  pointId,
  qdrantCollectionName,
  searchFilter,
  SPARSE_VECTOR,
} from './qdrant-schema';
import { type SparseBm25Options, SparseBm25Encoder, type SparseVector } from './sparse-bm25';

export interface QdrantSearchIndexOptions {
  /** `QDRANT_URL`, e.g. `http://qdrant:6333` (a path, for a proxy, is kept as the API prefix). */
  readonly url: string;
  /** `QDRANT_API_KEY`; sent as the `api-key` header, never logged or put in an error. */
  readonly apiKey?: string;
  /** The embedder's `model`: part of the collection name, so vector spaces never mix. */
  readonly embeddingModel: string;
  /** The embedder's `dimensions`: every chunk and query vector must have it. */
  readonly dimension: number;
  /** First part of the collection name (default `quarry`); tests use a unique one per run. */
  readonly collectionPrefix?: string;
  /** Points per upsert request (default 256). */
  readonly upsertBatchSize?: number;
  /** Each side of a hybrid search prefetches max(topK × candidateMultiplier, minCandidates) points. */
  readonly candidateMultiplier?: number;
  readonly minCandidates?: number;
  readonly bm25?: SparseBm25Options;
  /** Per-request deadline of the client in ms (default 30 s). */
  readonly timeoutMs?: number;
  /** A ready client (tests, custom transports); `url` is then only used in messages. */
  readonly client?: QdrantClient;
}

export const DEFAULT_QDRANT_OPTIONS = { upsertBatchSize: 256, timeoutMs: 30_000 } as const;

/** Count requests in flight at once during a reconciliation. */
const COUNT_CONCURRENCY = 4;
/** Documents per tenant asked for in a first facet request (grown eightfold while answers fill it). */
const FACET_FIRST_LIMIT = 1024;

type QueryRequest = Schemas['QueryRequest'];
type Side = 'lexical' | 'dense' | 'fused';

/**
 * The `SearchIndex` port on Qdrant (REST, `@qdrant/js-client-rest`).
 *
 * Layout: one collection per embedding model and dimension (`qdrantCollectionName`), holding every
 * tenant — the `tenant_id` payload index is marked `is_tenant`, and every request filters on it.
 * Each chunk is one point (id = chunk id) with a named dense vector `dense` (cosine) and a named
 * sparse vector `bm25` whose values are client-side BM25 term weights; the collection's IDF
 * modifier makes Qdrant supply the IDF, so a sparse search scores BM25 server-side.
 *
 * Differences from the embedded index, by construction:
 * - Fusion happens in Qdrant (Query API, prefetch + fusion). `rrf` → Qdrant's RRF, which uses its
 *   own rank constant (not our 60). `weighted` (our default: z-scored sides mixed by `denseWeight`)
 *   → Qdrant's DBSF (distribution-based score fusion: each side normalised by mean ± 3σ of its
 *   candidates, then summed) — the same "normalise the score distributions, then add" idea and the
 *   only score-based fusion Qdrant runs server-side; but it weighs both sides equally, so
 *   `denseWeight` is not applied. Fused hits carry only `score`: Qdrant does not report per-side
 *   scores, so `lexicalScore`/`vectorScore` are present on lexical-only/dense-only searches.
 * - `diversity` (MMR) re-ranks client-side with the embedded index's own function, over the
 *   max(topK × 4, 50) best points Qdrant returns with their dense vectors.
 * - IDF statistics are collection-wide (all tenants of the collection), while the embedded index
 *   keeps them per tenant. Isolation of results is unaffected (the tenant filter is mandatory), but
 *   one tenant's corpus shifts the term weights another tenant's ranking uses.
 * - Replacing a document is delete-by-filter, then batched upserts (each `wait: true`). It is
 *   validated whole before the first request, and serialised per document within this process, but
 *   Qdrant has no multi-request transactions: a search that runs in between may see the document
 *   missing or partly written, and a failure in between leaves it partial until the retry (the
 *   ingestion step retries the whole replacement, which is idempotent).
 * - `stats()` must be synchronous, so it reports what this process wrote and deleted (an estimate;
 *   other replicas write too). `count()`, `countTenantChunks()` and `countDocumentChunks()` ask
 *   Qdrant for exact figures — of the collection, which every replica writes: a replica that has
 *   not replayed a change yet may find another replica's work there.
 */
export class QdrantSearchIndex implements SearchIndex {
  readonly collectionName: string;
  readonly dimension: number;
  private readonly client: QdrantClient;
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly encoder: SparseBm25Encoder;
  private readonly upsertBatchSize: number;
  private readonly candidateMultiplier: number;
  private readonly minCandidates: number;
  private ensured: Promise<void> | undefined;
  /** tenant → document → points this process wrote (for `stats()`). */
  private readonly written = new Map<string, Map<string, number>>();
  /** Tail of each document's chain of mutations, so two replacements of one document never interleave. */
  private readonly documentQueues = new Map<string, Promise<void>>();

  constructor(options: QdrantSearchIndexOptions) {
    this.dimension = options.dimension;
    this.collectionName = qdrantCollectionName(options.embeddingModel, options.dimension, options.collectionPrefix);
    this.url = displayUrl(options.url);
    this.apiKey = options.apiKey || undefined;
    this.encoder = new SparseBm25Encoder(options.bm25);
    this.upsertBatchSize = options.upsertBatchSize ?? DEFAULT_QDRANT_OPTIONS.upsertBatchSize;
    this.candidateMultiplier = options.candidateMultiplier ?? DEFAULT_HYBRID_OPTIONS.candidateMultiplier;
    this.minCandidates = options.minCandidates ?? DEFAULT_HYBRID_OPTIONS.minCandidates;
    if (!Number.isInteger(this.upsertBatchSize) || this.upsertBatchSize < 1) {
      throw new RangeError(`upsertBatchSize must be a positive integer, got ${this.upsertBatchSize}`);
    }
    this.client = options.client ?? createClient(options.url, this.apiKey, options.timeoutMs ?? DEFAULT_QDRANT_OPTIONS.timeoutMs);
  }

  /**
   * Creates the collection and its payload indexes unless they exist (idempotent; concurrent
   * creators are fine). An existing collection is checked: a different vector size or a sparse
   * vector without the IDF modifier fails with CONFLICT instead of corrupting rankings. Runs once
   * per process (again after a failure); every other method calls it first.
   */
  ensureCollection(): Promise<void> {
    this.ensured ??= this.createCollectionIfMissing().catch((error: unknown) => {
      this.ensured = undefined;
      throw error;
    });
    return this.ensured;
  }

  async upsertDocumentChunks(tenantId: string, documentId: string, chunks: readonly IndexedChunk[]): Promise<void> {
    validateChunkBatch(tenantId, documentId, chunks);
    for (const chunk of chunks) {
      if (chunk.vector.length !== this.dimension) {
        throw invalid(`chunk ${chunk.chunkId} has a vector of dimension ${chunk.vector.length}, the index has ${this.dimension}`);
      }
    }
    // Built before the first request: a chunk that cannot be encoded fails the batch, not half of it.
    const points = chunks.map((chunk) => this.toPoint(chunk));
    await this.serialised(`${tenantId}\u0000${documentId}`, async () => {
      await this.ensureCollection();
      await this.deleteDocumentPoints(tenantId, documentId);
      for (let start = 0; start < points.length; start += this.upsertBatchSize) {
        const batch = points.slice(start, start + this.upsertBatchSize);
        await this.call(`upsert ${batch.length} points of document ${documentId}`, () =>
          this.client.upsert(this.collectionName, { wait: true, points: batch }),
        );
        this.remember(tenantId, documentId, start + batch.length);
      }
    });
  }

  async removeDocument(tenantId: string, documentId: string): Promise<void> {
    await this.serialised(`${tenantId}\u0000${documentId}`, async () => {
      await this.ensureCollection();
      await this.deleteDocumentPoints(tenantId, documentId);
    });
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    const topK = Math.floor(query.topK);
    if (!(topK > 0)) return [];
    if (query.vector.length > 0 && query.vector.length !== this.dimension) {
      throw invalid(`query vector has dimension ${query.vector.length}, the index has ${this.dimension}`);
    }
    const filter = searchFilter(query.tenantId, query.filters);
    if (!filter) return []; // an empty filter list matches nothing: no need to ask

    const mode = query.mode ?? 'hybrid';
    const sparse = mode === 'dense' ? undefined : nonEmpty(this.encoder.encodeQuery(query.text));
    const dense = mode === 'lexical' || isZero(query.vector) ? undefined : Array.from(query.vector);
    const lambda = query.diversity?.lambda ?? 1;
    const candidates = Math.max(topK * this.candidateMultiplier, this.minCandidates);
    const request = this.queryRequest({ topK, candidates, filter, sparse, dense, fusion: query.fusion, diversify: lambda < 1 });
    if (!request) return [];

    await this.ensureCollection();
    const response = await this.call(`query ${request.side} in collection ${this.collectionName}`, () =>
      this.client.query(this.collectionName, request.body),
    );
    const found = response.points.flatMap((point) => toHit(point, request.side).map((hit) => ({ hit, point })));
    if (lambda >= 1) return found.slice(0, topK).map(({ hit }) => hit);
    // Diversity: the same maximal-marginal-relevance re-ranking as the embedded index, over the
    // candidates Qdrant returned with their (normalised) dense vectors.
    const byId = new Map(found.map((entry) => [entry.hit.chunkId, entry]));
    const reordered = maximalMarginalRelevance(
      found.map(({ hit }) => ({ id: hit.chunkId, score: hit.score })),
      topK,
      lambda,
      (id) => denseVectorOf(byId.get(id)?.point),
    );
    return reordered.map(({ id }) => (byId.get(id) as { hit: SearchHit }).hit);
  }

  /** Per-process estimate: points this process wrote minus the ones it deleted (see the class notes). */
  stats(): SearchIndexStats {
    let chunks = 0;
    let tenants = 0;
    for (const documents of this.written.values()) {
      let tenantChunks = 0;
      for (const count of documents.values()) tenantChunks += count;
      chunks += tenantChunks;
      if (tenantChunks > 0) tenants++;
    }
    return { tenants, chunks };
  }

  /** Exact number of points in the collection, or of one tenant's points (asks Qdrant). */
  async count(tenantId?: string): Promise<number> {
    await this.ensureCollection();
    const filter: Schemas['Filter'] | undefined =
      tenantId === undefined ? undefined : { must: [{ key: PAYLOAD.tenantId, match: { value: tenantId } }] };
    const result = await this.call(`count points in collection ${this.collectionName}`, () =>
      this.client.count(this.collectionName, { exact: true, ...(filter && { filter }) }),
    );
    return result.count;
  }

  /** Exact point counts of the given tenants: one count request per tenant (a few at a time). */
  async countTenantChunks(tenantIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    const queue = [...new Set(tenantIds)];
    const worker = async (): Promise<void> => {
      for (let tenantId = queue.shift(); tenantId !== undefined; tenantId = queue.shift()) counts.set(tenantId, await this.count(tenantId));
    };
    await Promise.all(Array.from({ length: Math.min(COUNT_CONCURRENCY, queue.length) }, worker));
    return new Map(tenantIds.map((tenantId) => [tenantId, counts.get(tenantId) ?? 0]));
  }

  /**
   * Exact point counts per document of one tenant, from Qdrant's facet API (counts per value of the
   * keyword-indexed `document_id`, under the tenant filter). The count API needs the documents
   * named in advance, which would miss points of documents Postgres no longer knows — exactly the
   * ones reconciliation has to find. A facet answer as long as its limit may be cut: ask again with
   * a larger one.
   */
  async countDocumentChunks(tenantId: string): Promise<Map<string, number>> {
    await this.ensureCollection();
    const filter: Schemas['Filter'] = { must: [{ key: PAYLOAD.tenantId, match: { value: tenantId } }] };
    for (let limit = FACET_FIRST_LIMIT; ; limit *= 8) {
      const result = await this.call(`count the points of each document in collection ${this.collectionName}`, () =>
        this.client.facet(this.collectionName, { key: PAYLOAD.documentId, filter, exact: true, limit }),
      );
      if (result.hits.length < limit) return new Map(result.hits.map((hit) => [String(hit.value), hit.count]));
    }
  }

  private queryRequest(plan: {
    topK: number;
    candidates: number;
    filter: Schemas['Filter'];
    sparse: SparseVector | undefined;
    dense: number[] | undefined;
    fusion: FusionOptions | undefined;
    /** Fetch `candidates` points with their dense vectors, for the diversity re-ranking. */
    diversify: boolean;
  }): { side: Side; body: QueryRequest } | undefined {
    const { topK, candidates, filter, sparse, dense, fusion, diversify } = plan;
    const common = {
      filter,
      limit: diversify ? candidates : topK,
      with_payload: HIT_PAYLOAD_FIELDS,
      ...(diversify && { with_vector: [DENSE_VECTOR] }),
    };
    if (sparse && dense) {
      // The filter goes on each prefetch too: that is where candidates are chosen, so a filter
      // applied only after fusion could leave fewer than topK hits (and isolation stays explicit).
      return {
        side: 'fused',
        body: {
          prefetch: [
            { query: sparse, using: SPARSE_VECTOR, filter, limit: candidates },
            { query: dense, using: DENSE_VECTOR, filter, limit: candidates },
          ],
          query: { fusion: fusion?.method === 'rrf' ? 'rrf' : 'dbsf' },
          ...common,
        },
      };
    }
    if (sparse) return { side: 'lexical', body: { query: sparse, using: SPARSE_VECTOR, ...common } };
    if (dense) return { side: 'dense', body: { query: dense, using: DENSE_VECTOR, ...common } };
    return undefined;
  }

  private toPoint(chunk: IndexedChunk): Schemas['PointStruct'] {
    // A zero vector (the embedder's answer for a text with nothing to index) and a text without
    // index terms are left out: Qdrant may not normalise a zero vector, and neither can match.
    const vector: Record<string, number[] | SparseVector> = {};
    if (!isZero(chunk.vector)) vector[DENSE_VECTOR] = Array.from(chunk.vector);
    const sparse = this.encoder.encodeDocument(chunk.text, chunk.filename);
    if (sparse.indices.length > 0) vector[SPARSE_VECTOR] = sparse;
    const folder = normaliseFolder(chunk.folder);
    return {
      id: pointId(chunk.chunkId),
      vector,
      payload: {
        [PAYLOAD.tenantId]: chunk.tenantId,
        [PAYLOAD.documentId]: chunk.documentId,
        [PAYLOAD.chunkId]: chunk.chunkId,
        [PAYLOAD.text]: chunk.text,
        [PAYLOAD.filename]: chunk.filename,
        [PAYLOAD.ordinal]: chunk.ordinal,
        [PAYLOAD.provenance]: { ...chunk.provenance },
        [PAYLOAD.tags]: [...chunk.tags],
        [PAYLOAD.folder]: folder,
        [PAYLOAD.folderPath]: folderAncestors(folder),
      },
    };
  }

  private async deleteDocumentPoints(tenantId: string, documentId: string): Promise<void> {
    await this.call(`delete the points of document ${documentId}`, () =>
      this.client.delete(this.collectionName, { wait: true, filter: documentFilter(tenantId, documentId) }),
    );
    this.forget(tenantId, documentId);
  }

  private async createCollectionIfMissing(): Promise<void> {
    let info = await this.readCollection();
    if (!info) {
      try {
        await this.client.createCollection(this.collectionName, collectionConfig(this.dimension));
      } catch (error) {
        if (!isAlreadyExists(error)) throw this.wrap(error, `create collection ${this.collectionName}`);
        // Another replica created it first: check what it created like any existing collection.
        info = await this.readCollection();
        if (!info) throw this.wrap(error, `create collection ${this.collectionName}`);
      }
    }
    if (info) this.checkConfiguration(info);
    const present = new Set(Object.keys(info?.payload_schema ?? {}));
    for (const index of PAYLOAD_INDEXES) {
      if (present.has(index.field_name)) continue;
      await this.call(`create payload index ${index.field_name} in collection ${this.collectionName}`, () =>
        this.client.createPayloadIndex(this.collectionName, { wait: true, ...index }),
      );
    }
  }

  private async readCollection(): Promise<Schemas['CollectionInfo'] | undefined> {
    try {
      return await this.client.getCollection(this.collectionName);
    } catch (error) {
      if (httpStatus(error) === 404) return undefined;
      throw this.wrap(error, `read collection ${this.collectionName}`);
    }
  }

  private checkConfiguration(info: Schemas['CollectionInfo']): void {
    const params = info.config.params;
    const vectors = params.vectors as Record<string, { size?: number; distance?: string } | undefined> | undefined;
    const dense = vectors?.[DENSE_VECTOR];
    const sparse = params.sparse_vectors?.[SPARSE_VECTOR];
    const problems: string[] = [];
    if (!dense) problems.push(`no dense vector "${DENSE_VECTOR}"`);
    else {
      if (dense.size !== this.dimension) problems.push(`vector "${DENSE_VECTOR}" has size ${dense.size}, expected ${this.dimension}`);
      if (dense.distance !== 'Cosine') problems.push(`vector "${DENSE_VECTOR}" uses ${dense.distance} distance, expected Cosine`);
    }
    if (!sparse) problems.push(`no sparse vector "${SPARSE_VECTOR}"`);
    else if (sparse.modifier !== 'idf') problems.push(`sparse vector "${SPARSE_VECTOR}" has no IDF modifier`);
    if (problems.length > 0) {
      throw new DomainError(
        ErrorCode.Conflict,
        `Qdrant collection ${this.collectionName} at ${this.url} exists with another configuration: ${problems.join('; ')}`,
        { url: this.url, collection: this.collectionName },
      );
    }
  }

  /** Runs one client call, translating its failure; a vanished collection is re-created next time. */
  private async call<T>(operation: string, request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (httpStatus(error) === 404) this.ensured = undefined;
      throw this.wrap(error, operation);
    }
  }

  private wrap(error: unknown, operation: string): DomainError {
    return toDomainError(error, { operation, url: this.url, apiKey: this.apiKey });
  }

  private async serialised(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.documentQueues.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.catch(() => undefined);
    this.documentQueues.set(key, tail);
    try {
      await run;
    } finally {
      if (this.documentQueues.get(key) === tail) this.documentQueues.delete(key);
    }
  }

  private remember(tenantId: string, documentId: string, points: number): void {
    const documents = this.written.get(tenantId) ?? new Map<string, number>();
    documents.set(documentId, points);
    this.written.set(tenantId, documents);
  }

  private forget(tenantId: string, documentId: string): void {
    const documents = this.written.get(tenantId);
    if (!documents) return;
    documents.delete(documentId);
    if (documents.size === 0) this.written.delete(tenantId);
  }
}

/**
 * A client for `url`. A path in the URL (Qdrant behind a proxy) becomes the client's prefix — the
 * client would otherwise drop it; the client's own version check is off (it logs to the console on
 * its own schedule) — `ensureCollection()` is the connectivity check.
 */
function createClient(url: string, apiKey: string | undefined, timeout: number): QdrantClient {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RangeError('QDRANT_URL must be an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RangeError(`QDRANT_URL must use http or https, got ${parsed.protocol}`);
  }
  const prefix = parsed.pathname.replace(/\/+$/, '');
  return new QdrantClient({
    url: `${parsed.protocol}//${parsed.host}`,
    ...(prefix.length > 0 && { prefix }),
    ...(apiKey !== undefined && { apiKey }),
    timeout,
    checkCompatibility: false,
  });
}

function toHit(point: Schemas['ScoredPoint'], side: Side): SearchHit[] {
  const payload = point.payload ?? {};
  const chunkId = payload[PAYLOAD.chunkId];
  const documentId = payload[PAYLOAD.documentId];
  const filename = payload[PAYLOAD.filename];
  const text = payload[PAYLOAD.text];
  const ordinal = payload[PAYLOAD.ordinal];
  const provenance = payload[PAYLOAD.provenance];
  // A point not written by this adapter (or by an incompatible version) cannot become a hit.
  if (
    typeof chunkId !== 'string' ||
    typeof documentId !== 'string' ||
    typeof filename !== 'string' ||
    typeof text !== 'string' ||
    typeof ordinal !== 'number' ||
    typeof provenance !== 'object' ||
    provenance === null ||
    Array.isArray(provenance)
  ) {
    return [];
  }
  return [
    {
      chunkId,
      documentId,
      filename,
      text,
      ordinal,
      provenance: { ...(provenance as Record<string, unknown>) },
      score: point.score,
      ...(side === 'lexical' && { lexicalScore: point.score }),
      ...(side === 'dense' && { vectorScore: point.score }),
    },
  ];
}

/** The point's dense vector, when the response carries it (`with_vector`). */
function denseVectorOf(point: Schemas['ScoredPoint'] | undefined): Float32Array | undefined {
  const vectors = point?.vector;
  if (typeof vectors !== 'object' || vectors === null || Array.isArray(vectors)) return undefined;
  const dense = (vectors as Record<string, unknown>)[DENSE_VECTOR];
  return Array.isArray(dense) && dense.every((value) => typeof value === 'number') ? Float32Array.from(dense) : undefined;
}

function isAlreadyExists(error: unknown): boolean {
  const status = httpStatus(error);
  return status === 409 || (status === 400 && /already exists/i.test(qdrantReason(error)));
}

function nonEmpty(vector: SparseVector): SparseVector | undefined {
  return vector.indices.length > 0 ? vector : undefined;
}

function isZero(vector: Float32Array): boolean {
  return vector.every((value) => value === 0);
}

/** The `QDRANT_*` variables (see the README's configuration table). */
export interface QdrantEnv {
  readonly QDRANT_URL?: string;
  readonly QDRANT_API_KEY?: string;
}

/**
 * The adapter for `VECTOR_BACKEND=qdrant`: the URL and key from the environment, the collection
 * from the embedder (its `model` and `dimensions`, which ingestion and retrieval share).
 */
export function qdrantSearchIndexFromEnv(
  env: QdrantEnv,
  embedder: { readonly model: string; readonly dimensions: number },
): QdrantSearchIndex {
  if (!env.QDRANT_URL) throw new RangeError('VECTOR_BACKEND=qdrant needs QDRANT_URL');
  return new QdrantSearchIndex({
    url: env.QDRANT_URL,
    ...(env.QDRANT_API_KEY && { apiKey: env.QDRANT_API_KEY }),
    embeddingModel: embedder.model,
    dimension: embedder.dimensions,
  });
}
