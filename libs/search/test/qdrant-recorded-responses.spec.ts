/*
 * The Qdrant adapter against recorded REST responses. The recordings are HAND-WRITTEN from the
 * Qdrant REST API reference (see recordings/README.md), not captured from a live server: these
 * tests pin down what the adapter sends (collection config, payload indexes, batched upserts,
 * delete-by-filter, Query API bodies with prefetch/fusion/filters) and how it reads the answers.
 * Whether Qdrant ranks as expected is the contract suite's job, with QDRANT_URL set.
 */
import { ErrorCode } from '@quarry/contracts';
import { type DomainError, isDomainError } from '@quarry/domain';
import { QdrantSearchIndex, type QdrantSearchIndexOptions } from '../src/qdrant/qdrant-search-index';
import { SparseBm25Encoder, termId } from '../src/qdrant/sparse-bm25';
import type { IndexedChunk, SearchQuery } from '../src/search-index.port';
import { loadRecording, type ReceivedRequest, ReplayServer } from './replay-server';

const MODEL = 'recorded-model';
const COLLECTION = '/collections/quarry_recorded-model_4';
const HIT_FIELDS = ['chunk_id', 'document_id', 'filename', 'text', 'ordinal', 'provenance'];
const TENANT = { key: 'tenant_id', match: { value: 'acme' } };
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const DOC = uuid(101);

let server: ReplayServer;

beforeEach(async () => {
  server = await ReplayServer.start();
});

afterEach(async () => {
  await server.close();
});

function newIndex(over: Partial<QdrantSearchIndexOptions> = {}): QdrantSearchIndex {
  return new QdrantSearchIndex({ url: server.url, embeddingModel: MODEL, dimension: 4, ...over });
}

/** An index whose collection check already ran (against the "existing collection" recording). */
async function readyIndex(over: Partial<QdrantSearchIndexOptions> = {}): Promise<QdrantSearchIndex> {
  server.play(loadRecording('existing-collection'));
  const index = newIndex(over);
  await index.ensureCollection();
  server.clearRequests();
  return index;
}

function expectEverythingReplayed(): void {
  expect(server.unmatched).toEqual([]);
  expect(server.pending).toEqual([]);
}

const summary = (requests: ReceivedRequest[]): string[] => requests.map((request) => `${request.method} ${request.path}`);

function towards(axis: number, wobble = 0): Float32Array {
  const vector = new Float32Array(4).fill(wobble);
  vector[axis] = 1;
  return vector;
}

function chunk(n: number, over: Partial<IndexedChunk> = {}): IndexedChunk {
  return {
    chunkId: uuid(n),
    documentId: DOC,
    tenantId: 'acme',
    text: `Chunk ${n}: late payments incur a penalty.`,
    vector: towards(n % 4, 0.1),
    tags: ['finance', 'ap'],
    folder: 'finance//ap/',
    filename: 'q3-invoices.pdf',
    ordinal: n,
    provenance: { page: n + 1 },
    ...over,
  };
}

function query(over: Partial<SearchQuery> = {}): SearchQuery {
  return { tenantId: 'acme', text: 'late penalty', vector: towards(2), topK: 10, ...over };
}

async function rejection(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isDomainError(error)) throw new Error(`expected a DomainError, got ${String(error)}`);
  return error;
}

describe('QdrantSearchIndex against recorded Qdrant REST responses', () => {
  describe('ensureCollection', () => {
    it('creates a missing collection (dense cosine + sparse bm25 with IDF), then the payload indexes', async () => {
      server.play(loadRecording('create-collection'));
      const index = newIndex();
      await index.ensureCollection();
      await index.ensureCollection(); // idempotent: no second round trip

      expect(summary(server.requests)).toEqual([
        `GET ${COLLECTION}`,
        `PUT ${COLLECTION}`,
        `PUT ${COLLECTION}/index`,
        `PUT ${COLLECTION}/index`,
        `PUT ${COLLECTION}/index`,
        `PUT ${COLLECTION}/index`,
      ]);
      expect(server.requests[1].body).toEqual({
        vectors: { dense: { size: 4, distance: 'Cosine' } },
        sparse_vectors: { bm25: { modifier: 'idf' } },
      });
      expect(server.requests.slice(2).map((request) => request.body)).toEqual([
        { field_name: 'tenant_id', field_schema: { type: 'keyword', is_tenant: true } },
        { field_name: 'document_id', field_schema: 'keyword' },
        { field_name: 'tags', field_schema: 'keyword' },
        { field_name: 'folder_path', field_schema: 'keyword' },
      ]);
      expect(server.requests.slice(2).every((request) => request.query.wait === 'true')).toBe(true);
      expectEverythingReplayed();
    });

    it('only reads an existing, complete collection', async () => {
      server.play(loadRecording('existing-collection'));
      await newIndex().ensureCollection();
      expect(summary(server.requests)).toEqual([`GET ${COLLECTION}`]);
      expectEverythingReplayed();
    });

    it('adds only the payload indexes that are missing', async () => {
      server.play(loadRecording('existing-collection-missing-indexes'));
      await newIndex().ensureCollection();
      expect(server.requests.slice(1).map((request) => (request.body as { field_name: string }).field_name)).toEqual(['tags', 'folder_path']);
      expectEverythingReplayed();
    });

    it.each([409, 400])('accepts a collection another replica created first (PUT answers %i "already exists")', async (status) => {
      const recording = loadRecording('create-collection-race');
      const exchanges = recording.exchanges.map((exchange, i) =>
        i === 1 ? { ...exchange, response: { ...exchange.response, status } } : exchange,
      );
      server.play(exchanges);
      await newIndex().ensureCollection();
      expect(summary(server.requests)).toEqual([`GET ${COLLECTION}`, `PUT ${COLLECTION}`, `GET ${COLLECTION}`]);
      expectEverythingReplayed();
    });

    it('refuses a collection with another configuration, and checks again on the next call', async () => {
      server.play(loadRecording('existing-collection-other-config'));
      const index = newIndex();
      const error = await rejection(index.ensureCollection());
      expect(error.code).toBe(ErrorCode.Conflict);
      expect(error.message).toContain('vector "dense" has size 768, expected 4');
      expect(error.message).toContain('sparse vector "bm25" has no IDF modifier');
      server.play(loadRecording('existing-collection'));
      await index.ensureCollection();
      expect(summary(server.requests)).toEqual([`GET ${COLLECTION}`, `GET ${COLLECTION}`]);
      expectEverythingReplayed();
    });
  });

  describe('writes', () => {
    it('replaces a document: delete by tenant + document, then upserts in batches of 256, each with wait=true', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); // the client warns about a key over http
      const index = await readyIndex({ apiKey: 'recorded-secret' });
      warn.mockRestore();
      server.play(loadRecording('upsert-document'));
      const chunks = Array.from({ length: 600 }, (_, n) => chunk(n));

      await index.upsertDocumentChunks('acme', DOC, chunks);

      expect(summary(server.requests)).toEqual([
        `POST ${COLLECTION}/points/delete`,
        `PUT ${COLLECTION}/points`,
        `PUT ${COLLECTION}/points`,
        `PUT ${COLLECTION}/points`,
      ]);
      expect(server.requests.every((request) => request.query.wait === 'true')).toBe(true);
      expect(server.requests.every((request) => request.headers['api-key'] === 'recorded-secret')).toBe(true);
      expect(server.requests[0].body).toEqual({
        filter: { must: [TENANT, { key: 'document_id', match: { value: DOC } }] },
      });
      const batches = server.requests.slice(1).map((request) => (request.body as { points: unknown[] }).points);
      expect(batches.map((batch) => batch.length)).toEqual([256, 256, 88]);

      const [first] = batches[0] as { id: string; vector: { dense: number[]; bm25: { indices: number[]; values: number[] } } }[];
      expect(first).toEqual({
        id: uuid(0),
        vector: { dense: Array.from(towards(0, 0.1)), bm25: new SparseBm25Encoder().encodeDocument(chunks[0].text, 'q3-invoices.pdf') },
        payload: {
          tenant_id: 'acme',
          document_id: DOC,
          chunk_id: uuid(0),
          text: 'Chunk 0: late payments incur a penalty.',
          filename: 'q3-invoices.pdf',
          ordinal: 0,
          provenance: { page: 1 },
          tags: ['finance', 'ap'],
          folder: '/finance/ap',
          folder_path: ['/', '/finance', '/finance/ap'],
        },
      });
      const { indices, values } = first.vector.bm25;
      expect(indices).toEqual([...new Set(indices)].sort((a, b) => a - b));
      expect(indices).toEqual(expect.arrayContaining([termId('penalti'), termId('invoic')]));
      expect(values.every((value) => value > 0)).toBe(true);
      expect(index.stats()).toEqual({ tenants: 1, chunks: 600 });
      expectEverythingReplayed();
    });

    it('rejects an inconsistent batch before sending anything', async () => {
      const index = await readyIndex();
      const error = await rejection(index.upsertDocumentChunks('acme', DOC, [chunk(1), chunk(2, { documentId: uuid(999) })]));
      expect(error.code).toBe(ErrorCode.InvalidPayload);
      const wrongSize = await rejection(index.upsertDocumentChunks('acme', DOC, [chunk(1, { vector: new Float32Array(3).fill(1) })]));
      expect(wrongSize.code).toBe(ErrorCode.InvalidPayload);
      expect(wrongSize.message).toContain('the index has 4');
      expect(server.requests).toEqual([]);
    });

    it('leaves out a zero vector and a text without terms instead of sending them', async () => {
      const index = await readyIndex();
      server.play(loadRecording('upsert-document').exchanges.slice(0, 2));
      await index.upsertDocumentChunks('acme', DOC, [chunk(1, { vector: new Float32Array(4), text: 'the and of', filename: '' })]);
      expect((server.requests[1].body as { points: { vector: unknown }[] }).points[0].vector).toEqual({});
      expectEverythingReplayed();
    });

    it('an empty chunk list only deletes; removeDocument deletes by filter', async () => {
      const index = await readyIndex();
      server.play(loadRecording('upsert-document').exchanges.slice(0, 2));
      await index.upsertDocumentChunks('acme', DOC, [chunk(1)]);
      expect(index.stats()).toEqual({ tenants: 1, chunks: 1 });
      server.clearRequests();

      server.play(loadRecording('delete-document'));
      await index.upsertDocumentChunks('acme', DOC, []);
      server.play(loadRecording('delete-document'));
      await index.removeDocument('acme', DOC);
      expect(summary(server.requests)).toEqual([`POST ${COLLECTION}/points/delete`, `POST ${COLLECTION}/points/delete`]);
      expect(server.requests[1].body).toEqual({ filter: { must: [TENANT, { key: 'document_id', match: { value: DOC } }] } });
      expect(server.requests[1].query.wait).toBe('true');
      expect(index.stats()).toEqual({ tenants: 0, chunks: 0 });
      expectEverythingReplayed();
    });

    it('never interleaves two replacements of one document', async () => {
      const index = await readyIndex();
      server.play(loadRecording('upsert-document').exchanges.slice(0, 2));
      server.play(loadRecording('upsert-document').exchanges.slice(0, 2));
      await Promise.all([
        index.upsertDocumentChunks('acme', DOC, [chunk(1)]),
        index.upsertDocumentChunks('acme', DOC, [chunk(2)]),
      ]);
      expect(summary(server.requests)).toEqual([
        `POST ${COLLECTION}/points/delete`,
        `PUT ${COLLECTION}/points`,
        `POST ${COLLECTION}/points/delete`,
        `PUT ${COLLECTION}/points`,
      ]);
      expectEverythingReplayed();
    });

    it('creates the collection on first use', async () => {
      server.play(loadRecording('create-collection'));
      server.play(loadRecording('delete-document'));
      await newIndex().removeDocument('acme', DOC);
      expect(summary(server.requests)[0]).toBe(`GET ${COLLECTION}`);
      expect(summary(server.requests).at(-1)).toBe(`POST ${COLLECTION}/points/delete`);
      expectEverythingReplayed();
    });
  });

  describe('search', () => {
    const sparseQuery = new SparseBm25Encoder().encodeQuery('late penalty');

    it('hybrid + rrf: both sides prefetched under the filter, fused by RRF in Qdrant; hits come from the payload', async () => {
      const index = await readyIndex();
      server.play(loadRecording('query-hybrid'));
      const hits = await index.search(query({ fusion: { method: 'rrf' } }));

      expect(summary(server.requests)).toEqual([`POST ${COLLECTION}/points/query`]);
      const filter = { must: [TENANT] };
      expect(server.requests[0].body).toEqual({
        prefetch: [
          { query: sparseQuery, using: 'bm25', filter, limit: 50 },
          { query: [0, 0, 1, 0], using: 'dense', filter, limit: 50 },
        ],
        query: { fusion: 'rrf' },
        filter,
        limit: 10,
        with_payload: HIT_FIELDS,
      });
      expect(hits).toEqual([
        {
          chunkId: uuid(2),
          documentId: DOC,
          filename: 'invoices.pdf',
          text: 'Late payments incur a two percent penalty.',
          ordinal: 1,
          provenance: { page: 4 },
          score: 0.8333333,
        },
        {
          chunkId: uuid(4),
          documentId: uuid(102),
          filename: 'holidays.md',
          text: 'Employees receive twenty-five vacation days per year.',
          ordinal: 0,
          provenance: {},
          score: 0.5,
        },
        {
          chunkId: uuid(1),
          documentId: DOC,
          filename: 'invoices.pdf',
          text: 'Invoices are paid within thirty days of receipt.',
          ordinal: 0,
          provenance: { page: 3, section: { title: 'Terms', level: 2 } },
          score: 0.32258064,
        },
        // The fourth recorded point has no Quarry payload and is skipped.
      ]);
      expectEverythingReplayed();
    });

    it.each([
      ['weighted fusion', { method: 'weighted', denseWeight: 0.2 } as const],
      ['the default fusion', undefined],
    ])('%s maps to DBSF, with max(topK × 4, 50) candidates per side', async (_, fusion) => {
      const index = await readyIndex();
      server.play(loadRecording('query-hybrid'));
      await index.search(query({ topK: 20, ...(fusion && { fusion }) }));
      const body = server.requests[0].body as { query: unknown; limit: number; prefetch: { limit: number }[] };
      expect(body.query).toEqual({ fusion: 'dbsf' });
      expect(body.limit).toBe(20);
      expect(body.prefetch.map((prefetch) => prefetch.limit)).toEqual([80, 80]);
    });

    it('lexical mode: one sparse query; hits carry the BM25 score as lexicalScore', async () => {
      const index = await readyIndex();
      server.play(loadRecording('query-lexical'));
      const hits = await index.search(query({ mode: 'lexical', topK: 3 }));
      expect(server.requests[0].body).toEqual({ query: sparseQuery, using: 'bm25', filter: { must: [TENANT] }, limit: 3, with_payload: HIT_FIELDS });
      expect(hits).toHaveLength(1);
      expect(hits[0]).toMatchObject({ chunkId: uuid(2), score: 1.2039728, lexicalScore: 1.2039728 });
      expect(hits[0]).not.toHaveProperty('vectorScore');
      expectEverythingReplayed();
    });

    it('dense mode: one dense query; hits carry the cosine as vectorScore', async () => {
      const index = await readyIndex();
      server.play(loadRecording('query-dense'));
      const vector = towards(2, 0.1);
      const hits = await index.search(query({ mode: 'dense', vector }));
      expect(server.requests[0].body).toEqual({ query: Array.from(vector), using: 'dense', filter: { must: [TENANT] }, limit: 10, with_payload: HIT_FIELDS });
      expect(hits.map((hit) => [hit.chunkId, hit.score, hit.vectorScore])).toEqual([
        [uuid(4), 0.99999994, 0.99999994],
        [uuid(1), 0, 0],
      ]);
      expect(hits.every((hit) => !('lexicalScore' in hit))).toBe(true);
      expectEverythingReplayed();
    });

    it('hybrid without a query vector (or with only stop words) searches one side', async () => {
      const index = await readyIndex();
      server.play(loadRecording('query-lexical'));
      server.play(loadRecording('query-dense'));
      await index.search(query({ vector: new Float32Array(0) }));
      await index.search(query({ text: 'the of and' }));
      expect((server.requests[0].body as { using: string }).using).toBe('bm25');
      expect((server.requests[1].body as { using: string }).using).toBe('dense');
      expect(server.requests.every((request) => !('prefetch' in (request.body as object)))).toBe(true);
      expectEverythingReplayed();
    });

    it('diversity: asks for max(topK × 4, 50) candidates with their dense vectors, then re-ranks by MMR', async () => {
      const index = await readyIndex();
      server.play(loadRecording('query-diversity'));
      server.play(loadRecording('query-diversity'));
      const diverse = await index.search(query({ topK: 2, diversity: { lambda: 0.5 } }));
      const body = server.requests[0].body as { limit: number; with_vector: unknown; prefetch: { limit: number }[] };
      expect(body.limit).toBe(50);
      expect(body.with_vector).toEqual(['dense']);
      expect(body.prefetch.map((prefetch) => prefetch.limit)).toEqual([50, 50]);
      // The near-duplicate of the first hit gives way to the passage that says something else.
      expect(diverse.map((hit) => hit.chunkId)).toEqual([uuid(11), uuid(13)]);
      expect(diverse[1].score).toBe(0.5);

      const plain = await index.search(query({ topK: 2, diversity: { lambda: 1 } }));
      expect((server.requests[1].body as { limit: number }).limit).toBe(2);
      expect(server.requests[1].body).not.toHaveProperty('with_vector');
      expect(plain.map((hit) => hit.chunkId)).toEqual([uuid(11), uuid(12)]); // at most topK, whatever the answer holds
      expectEverythingReplayed();
    });

    it('translates filters into must conditions next to the tenant, on every prefetch and the fused query', async () => {
      const index = await readyIndex();
      server.play(loadRecording('query-hybrid'));
      await index.search(query({ filters: { tags: ['hr', 'ops'], folder: 'finance/ap/', documentIds: [DOC, uuid(102)] } }));
      const filter = {
        must: [
          TENANT,
          { key: 'tags', match: { any: ['hr', 'ops'] } },
          { key: 'document_id', match: { any: [DOC, uuid(102)] } },
          { key: 'folder_path', match: { value: '/finance/ap' } },
        ],
      };
      const body = server.requests[0].body as { filter: unknown; prefetch: { filter: unknown }[] };
      expect(body.filter).toEqual(filter);
      expect(body.prefetch.map((prefetch) => prefetch.filter)).toEqual([filter, filter]);
    });

    it('answers [] without asking Qdrant when nothing can match', async () => {
      const index = await readyIndex();
      expect(await index.search(query({ filters: { tags: [] } }))).toEqual([]);
      expect(await index.search(query({ filters: { documentIds: [] } }))).toEqual([]);
      expect(await index.search(query({ topK: 0 }))).toEqual([]);
      expect(await index.search(query({ text: 'the of and', mode: 'lexical' }))).toEqual([]);
      expect(await index.search(query({ text: 'penalty', vector: new Float32Array(0), mode: 'dense' }))).toEqual([]);
      expect(server.requests).toEqual([]);
    });

    it('rejects a query vector of the wrong dimension before asking', async () => {
      const index = await readyIndex();
      const error = await rejection(index.search(query({ vector: new Float32Array(3).fill(1) })));
      expect(error.code).toBe(ErrorCode.InvalidPayload);
      expect(server.requests).toEqual([]);
    });
  });

  describe('count', () => {
    it('asks Qdrant for an exact count of a tenant’s points', async () => {
      const index = await readyIndex();
      server.play(loadRecording('count'));
      expect(await index.count('acme')).toBe(5);
      expect(summary(server.requests)).toEqual([`POST ${COLLECTION}/points/count`]);
      expect(server.requests[0].body).toEqual({ filter: { must: [TENANT] }, exact: true });
      expectEverythingReplayed();
    });

    it('counts each tenant with one exact count request under its tenant filter', async () => {
      const index = await readyIndex();
      server.play(loadRecording('count'));
      server.play(loadRecording('count'));
      const counts = await index.countTenantChunks(['acme', 'globex', 'acme']);
      expect([...counts]).toEqual([
        ['acme', 5],
        ['globex', 5],
      ]);
      expect(summary(server.requests)).toEqual([`POST ${COLLECTION}/points/count`, `POST ${COLLECTION}/points/count`]);
      expect(server.requests.map((request) => request.body)).toEqual(
        expect.arrayContaining([
          { filter: { must: [TENANT] }, exact: true },
          { filter: { must: [{ key: 'tenant_id', match: { value: 'globex' } }] }, exact: true },
        ]),
      );
      expectEverythingReplayed();
    });

    it('counts a tenant’s points per document with an exact facet on document_id', async () => {
      const index = await readyIndex();
      server.play(loadRecording('facet-documents'));
      const counts = await index.countDocumentChunks('acme');
      expect([...counts]).toEqual([
        [DOC, 3],
        [uuid(102), 1],
      ]);
      expect(summary(server.requests)).toEqual([`POST ${COLLECTION}/facet`]);
      expect(server.requests[0].body).toEqual({ key: 'document_id', filter: { must: [TENANT] }, exact: true, limit: 1024 });
      expectEverythingReplayed();
    });

    it('asks again with a larger limit when a facet answer fills its limit (it may be cut)', async () => {
      const index = await readyIndex();
      const [recorded] = loadRecording('facet-documents').exchanges;
      const answer = (documents: number) => ({
        ...recorded,
        response: { status: 200, body: { result: { hits: Array.from({ length: documents }, (_, n) => ({ value: uuid(n), count: 1 })) }, status: 'ok', time: 0 } },
      });
      server.play([answer(1024), answer(1500)]);
      const counts = await index.countDocumentChunks('acme');
      expect(counts.size).toBe(1500);
      expect(server.requests.map((request) => (request.body as { limit: number }).limit)).toEqual([1024, 8192]);
      expectEverythingReplayed();
    });
  });

  describe('errors', () => {
    it('an unreachable Qdrant is SERVICE_UNAVAILABLE, naming the URL and never the API key', async () => {
      const url = server.url;
      await server.close();
      server = await ReplayServer.start(); // for afterEach; the old port is closed now
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      const index = new QdrantSearchIndex({ url, apiKey: 'unreachable-secret', embeddingModel: MODEL, dimension: 4 });
      warn.mockRestore();
      const error = await rejection(index.search(query()));
      expect(error.code).toBe(ErrorCode.ServiceUnavailable);
      expect(error.message).toBe(`Qdrant at ${url} is unreachable (ECONNREFUSED) during read collection quarry_recorded-model_4`);
      expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain('unreachable-secret');
    });

    it('a 5xx is SERVICE_UNAVAILABLE with Qdrant’s reason', async () => {
      const index = await readyIndex();
      server.play(loadRecording('error-unavailable'));
      const error = await rejection(index.search(query()));
      expect(error.code).toBe(ErrorCode.ServiceUnavailable);
      expect(error.message).toContain('(HTTP 503): Service Unavailable: too many requests in flight');
      expect(error.permanent).toBe(false);
    });

    it('a 400 is INTERNAL with Qdrant’s reason (the adapter sent something Qdrant refuses)', async () => {
      const index = await readyIndex();
      server.play(loadRecording('error-bad-request'));
      const error = await rejection(index.search(query()));
      expect(error.code).toBe(ErrorCode.Internal);
      expect(error.message).toBe(
        `Qdrant at ${server.url} rejected query fused in collection quarry_recorded-model_4 (HTTP 400): Wrong input: Vector dimension error: expected dim: 4, got 3`,
      );
    });

    it('a refused API key says so without repeating it', async () => {
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      const index = await readyIndex({ apiKey: 'wrong-secret' });
      warn.mockRestore();
      server.play(loadRecording('error-unauthorized'));
      const error = await rejection(index.removeDocument('acme', DOC));
      expect(error.code).toBe(ErrorCode.ServiceUnavailable);
      expect(error.message).toContain('refused the credentials (HTTP 401)');
      expect(`${error.message} ${JSON.stringify(error.details)}`).not.toContain('wrong-secret');
    });

    it('a collection deleted behind the adapter’s back is re-created on the next call', async () => {
      const index = await readyIndex();
      server.play(loadRecording('error-collection-gone'));
      expect((await rejection(index.removeDocument('acme', DOC))).code).toBe(ErrorCode.ServiceUnavailable);
      server.clearRequests();
      server.play(loadRecording('create-collection'));
      server.play(loadRecording('delete-document'));
      await index.removeDocument('acme', DOC);
      expect(summary(server.requests).slice(0, 2)).toEqual([`GET ${COLLECTION}`, `PUT ${COLLECTION}`]);
      expectEverythingReplayed();
    });
  });
});
