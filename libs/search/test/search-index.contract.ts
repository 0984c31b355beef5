import { ErrorCode } from '@quarry/contracts';
import { isDomainError } from '@quarry/domain';
import type { IndexedChunk, MaybePromise, SearchHit, SearchIndex, SearchQuery } from '../src/search-index.port';

/**
 * The behaviour every `SearchIndex` backend must have, as one shared suite. Each backend's spec
 * calls `describeSearchIndexContract` with a factory; the embedded index runs it always, Qdrant
 * when a server is configured. Only behaviour the port promises is asserted — never exact scores
 * or tie orders, which legitimately differ between backends (fusion, IDF statistics).
 */

export interface SearchIndexFixture {
  readonly index: SearchIndex;
  /** Called after each test (drop the test's collection …). */
  readonly dispose?: () => MaybePromise<void>;
}

export interface ContractOptions {
  /** When set, the suite is registered as skipped and the reason is part of its name. */
  readonly skipReason?: string;
  /** Per-test timeout for remote backends. */
  readonly timeoutMs?: number;
}

/** Vector size used throughout the suite (small, so similarities are easy to reason about). */
export const CONTRACT_DIMENSION = 4;

// Ids are UUIDs: the wire contract requires them and Qdrant uses chunk ids as point ids.
const id = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
export const IDS = {
  invoices: id(101),
  holidays: id(102),
  servers: id(103),
  globexDoc: id(104),
  inv1: id(1),
  inv2: id(2),
  inv3: id(3),
  hol1: id(4),
  srv1: id(5),
  glx1: id(6),
} as const;

/** A unit-ish vector pointing mostly along `axis`. */
export function towards(axis: number, wobble = 0): Float32Array {
  const vector = new Float32Array(CONTRACT_DIMENSION).fill(wobble);
  vector[axis] = 1;
  return vector;
}

function chunk(over: Partial<IndexedChunk> & Pick<IndexedChunk, 'chunkId' | 'documentId'>): IndexedChunk {
  return {
    tenantId: 'acme',
    text: 'placeholder text',
    vector: towards(0),
    tags: [],
    folder: '/',
    filename: 'file.txt',
    ordinal: 0,
    provenance: {},
    ...over,
  };
}

const NO_VECTOR = new Float32Array(0);

function query(over: Partial<SearchQuery> = {}): SearchQuery {
  return { tenantId: 'acme', text: '', vector: NO_VECTOR, topK: 10, ...over };
}

const chunkIds = (hits: SearchHit[]): string[] => hits.map((hit) => hit.chunkId);
const sortedIds = (hits: SearchHit[]): string[] => chunkIds(hits).sort();

/** Runs a port method that may answer synchronously (or throw) as a promise. */
async function run<T>(operation: () => MaybePromise<T>): Promise<T> {
  return await operation();
}

async function expectInvalid(operation: () => MaybePromise<unknown>): Promise<void> {
  const error = await run(operation).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isDomainError(error) && error.code).toBe(ErrorCode.InvalidPayload);
}

const INVOICES: IndexedChunk[] = [
  chunk({
    chunkId: IDS.inv1,
    documentId: IDS.invoices,
    text: 'Invoices are paid within thirty days of receipt.',
    vector: towards(1),
    tags: ['finance'],
    folder: '/finance/ap',
    filename: 'invoices.pdf',
    ordinal: 0,
    provenance: { page: 3, section: { title: 'Terms', level: 2 } },
  }),
  chunk({
    chunkId: IDS.inv2,
    documentId: IDS.invoices,
    text: 'Late payments incur a two percent penalty.',
    vector: towards(1, 0.1),
    tags: ['finance'],
    folder: '/finance/ap',
    filename: 'invoices.pdf',
    ordinal: 1,
    provenance: { page: 4 },
  }),
];

const HOLIDAYS: IndexedChunk[] = [
  chunk({
    chunkId: IDS.hol1,
    documentId: IDS.holidays,
    text: 'Employees receive twenty-five vacation days per year.',
    vector: towards(2),
    tags: ['hr'],
    folder: '/hr',
    filename: 'holidays.md',
  }),
];

const SERVERS: IndexedChunk[] = [
  chunk({
    chunkId: IDS.srv1,
    documentId: IDS.servers,
    text: 'The servers run Kubernetes and restart nightly.',
    vector: towards(3),
    tags: ['ops', 'finance'],
    folder: '/financeops',
    filename: 'servers.md',
  }),
];

/** Another tenant with the same words, folder and tags as acme's invoices. */
const GLOBEX: IndexedChunk[] = [
  chunk({
    chunkId: IDS.glx1,
    tenantId: 'globex',
    documentId: IDS.globexDoc,
    text: 'Late payments incur a penalty; the penalty is due at once.',
    vector: towards(1, 0.1),
    tags: ['finance'],
    folder: '/finance/ap',
    filename: 'invoices.pdf',
  }),
];

async function seed(index: SearchIndex): Promise<void> {
  await run(() => index.upsertDocumentChunks('acme', IDS.invoices, INVOICES));
  await run(() => index.upsertDocumentChunks('acme', IDS.holidays, HOLIDAYS));
  await run(() => index.upsertDocumentChunks('acme', IDS.servers, SERVERS));
  await run(() => index.upsertDocumentChunks('globex', IDS.globexDoc, GLOBEX));
}

const ALL_ACME = [IDS.inv1, IDS.inv2, IDS.hol1, IDS.srv1].sort();

export function describeSearchIndexContract(
  name: string,
  factory: () => MaybePromise<SearchIndexFixture>,
  options: ContractOptions = {},
): void {
  if (options.skipReason !== undefined) {
    // Skipped on purpose, with the reason in its name: a backend whose server is not configured
    // (the Qdrant run needs QDRANT_URL) is reported as skipped rather than silently absent.
    describe.skip(`${name} — SearchIndex contract (skipped: ${options.skipReason})`, () => {
      it('is not run', () => undefined);
    });
    return;
  }

  describe(`${name} — SearchIndex contract`, () => {
    if (options.timeoutMs !== undefined) jest.setTimeout(options.timeoutMs);

    let fixture: SearchIndexFixture;
    let index: SearchIndex;
    const search = (over: Partial<SearchQuery>): Promise<SearchHit[]> => run(() => index.search(query(over)));

    beforeEach(async () => {
      fixture = await factory();
      index = fixture.index;
      await seed(index);
    });

    afterEach(async () => {
      await fixture.dispose?.();
    });

    describe('retrieval modes', () => {
      it('lexical mode finds the chunk holding a rare term, with its BM25 score', async () => {
        const hits = await search({ text: 'penalty', vector: towards(2), mode: 'lexical' });
        expect(chunkIds(hits)).toEqual([IDS.inv2]);
        expect(hits[0].lexicalScore).toBeGreaterThan(0);
        expect(hits[0].vectorScore).toBeUndefined();
      });

      it('lexical mode matches inflections through the shared tokenizer ("running" finds "run")', async () => {
        const hits = await search({ text: 'running', mode: 'lexical' });
        expect(chunkIds(hits)).toEqual([IDS.srv1]);
      });

      it('dense mode finds the nearest vector, with its cosine similarity', async () => {
        const hits = await search({ text: 'penalty', vector: towards(2), mode: 'dense' });
        expect(hits[0].chunkId).toBe(IDS.hol1);
        expect(hits[0].vectorScore).toBeCloseTo(1, 4);
        expect(hits.every((hit) => hit.lexicalScore === undefined)).toBe(true);
      });

      it.each(['weighted', 'rrf'] as const)('hybrid (%s) returns the union of both sides, best first', async (method) => {
        // Lexically only the servers chunk mentions kubernetes; by vector the holidays chunk is nearest.
        const hits = await search({ text: 'kubernetes', vector: towards(2), fusion: { method } });
        expect(chunkIds(hits)).toEqual(expect.arrayContaining([IDS.srv1, IDS.hol1]));
        for (let i = 1; i < hits.length; i++) expect(hits[i - 1].score).toBeGreaterThanOrEqual(hits[i].score);
        expect(chunkIds(hits)).not.toContain(IDS.glx1);
      });

      it('hybrid with an empty query vector searches lexically', async () => {
        const hits = await search({ text: 'kubernetes' });
        expect(chunkIds(hits)).toEqual([IDS.srv1]);
      });

      it('respects topK', async () => {
        const hits = await search({ vector: towards(1), mode: 'dense', topK: 2 });
        expect(hits).toHaveLength(2);
        expect(sortedIds(hits)).toEqual([IDS.inv1, IDS.inv2].sort());
        expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score);
        expect(await search({ text: 'invoices', vector: towards(1), topK: 1 })).toHaveLength(1);
        expect(await search({ text: 'invoices', vector: towards(1), topK: 0 })).toEqual([]);
      });

      it('returns a complete hit payload', async () => {
        const [lexical] = await search({ text: 'receipt', mode: 'lexical' });
        expect(lexical).toEqual({
          chunkId: IDS.inv1,
          documentId: IDS.invoices,
          filename: 'invoices.pdf',
          text: 'Invoices are paid within thirty days of receipt.',
          ordinal: 0,
          provenance: { page: 3, section: { title: 'Terms', level: 2 } },
          score: expect.any(Number) as number,
          lexicalScore: expect.any(Number) as number,
        });
        const [dense] = await search({ vector: towards(2), mode: 'dense', topK: 1 });
        expect(dense).toEqual({
          chunkId: IDS.hol1,
          documentId: IDS.holidays,
          filename: 'holidays.md',
          text: 'Employees receive twenty-five vacation days per year.',
          ordinal: 0,
          provenance: {},
          score: expect.any(Number) as number,
          vectorScore: expect.any(Number) as number,
        });
      });

      it('diversity (MMR) trades relevance for variety', async () => {
        // By vector the two invoice chunks are nearly identical; with a low λ the second pick is
        // a chunk that says something else.
        const plain = await search({ vector: towards(1), mode: 'dense', topK: 2 });
        expect(sortedIds(plain)).toEqual([IDS.inv1, IDS.inv2].sort());
        const diverse = await search({ vector: towards(1), mode: 'dense', topK: 2, diversity: { lambda: 0.3 } });
        expect(diverse).toHaveLength(2);
        expect(diverse[0].chunkId).toBe(IDS.inv1);
        expect(diverse[1].chunkId).not.toBe(IDS.inv2);
      });

      it('rejects a query vector of the wrong dimension', async () => {
        await expectInvalid(() => index.search(query({ text: 'invoices', vector: new Float32Array(CONTRACT_DIMENSION + 1).fill(1) })));
      });
    });

    describe('tenant isolation', () => {
      it('never returns another tenant’s chunks, whatever the mode', async () => {
        for (const mode of ['hybrid', 'lexical', 'dense'] as const) {
          const acme = await search({ text: 'penalty payments', vector: towards(1, 0.1), mode });
          expect(chunkIds(acme)).not.toContain(IDS.glx1);
          const globex = await run(() => index.search(query({ tenantId: 'globex', text: 'penalty payments', vector: towards(1, 0.1), mode })));
          expect(chunkIds(globex)).toEqual([IDS.glx1]);
        }
      });

      it('answers nothing for a tenant without chunks', async () => {
        expect(await run(() => index.search(query({ tenantId: 'initech', text: 'penalty', vector: towards(1) })))).toEqual([]);
      });

      it('keeps documents of different tenants apart on removal', async () => {
        await run(() => index.removeDocument('globex', IDS.invoices)); // acme's document id, other tenant
        expect(sortedIds(await search({ vector: towards(1), mode: 'dense' }))).toEqual(ALL_ACME);
      });
    });

    describe('filters', () => {
      // Similar to every chunk's vector, so a dense search lists the whole (filtered) tenant.
      const everything = { vector: new Float32Array(CONTRACT_DIMENSION).fill(0.5), mode: 'dense' as const };

      it('tags: the document has any of the tags', async () => {
        expect(sortedIds(await search({ ...everything, filters: { tags: ['hr', 'ops'] } }))).toEqual([IDS.hol1, IDS.srv1].sort());
        expect(sortedIds(await search({ ...everything, filters: { tags: ['finance'] } }))).toEqual([IDS.inv1, IDS.inv2, IDS.srv1].sort());
        expect(await search({ ...everything, filters: { tags: ['Finance'] } })).toEqual([]); // exact, case-sensitive
      });

      it('folder: the folder and beneath it, not a sibling sharing the prefix', async () => {
        expect(sortedIds(await search({ ...everything, filters: { folder: '/finance' } }))).toEqual([IDS.inv1, IDS.inv2].sort());
        expect(sortedIds(await search({ ...everything, filters: { folder: 'finance/ap/' } }))).toEqual([IDS.inv1, IDS.inv2].sort());
        expect(sortedIds(await search({ ...everything, filters: { folder: '/financeops' } }))).toEqual([IDS.srv1]);
        expect(await search({ ...everything, filters: { folder: '/fin' } })).toEqual([]);
        expect(sortedIds(await search({ ...everything, filters: { folder: '/' } }))).toEqual(ALL_ACME);
      });

      it('documentIds: only those documents', async () => {
        const hits = await search({ ...everything, filters: { documentIds: [IDS.holidays, IDS.servers, IDS.globexDoc] } });
        expect(sortedIds(hits)).toEqual([IDS.hol1, IDS.srv1].sort());
      });

      it('all present filters must hold', async () => {
        const hits = await search({ ...everything, filters: { tags: ['finance'], folder: '/finance', documentIds: [IDS.invoices, IDS.servers] } });
        expect(sortedIds(hits)).toEqual([IDS.inv1, IDS.inv2].sort());
      });

      it('an empty list matches nothing', async () => {
        const full = { text: 'penalty invoices kubernetes', vector: towards(1) };
        expect(await search({ ...full, filters: { tags: [] } })).toEqual([]);
        expect(await search({ ...full, filters: { documentIds: [] } })).toEqual([]);
        expect(await search({ ...full, filters: { tags: ['finance'], documentIds: [] } })).toEqual([]);
      });
    });

    describe('writes', () => {
      it('replaces a document’s chunks: the old ones are gone, the new ones found', async () => {
        const replacement = chunk({
          chunkId: IDS.inv3,
          documentId: IDS.invoices,
          text: 'Invoices are now settled within sixty days.',
          vector: towards(1),
          tags: ['finance'],
          folder: '/finance/ap',
          filename: 'invoices.pdf',
        });
        await run(() => index.upsertDocumentChunks('acme', IDS.invoices, [replacement]));
        expect(chunkIds(await search({ vector: towards(1), mode: 'dense', filters: { documentIds: [IDS.invoices] } }))).toEqual([IDS.inv3]);
        expect(await search({ text: 'penalty', mode: 'lexical' })).toEqual([]);
        expect(chunkIds(await search({ text: 'sixty', mode: 'lexical' }))).toEqual([IDS.inv3]);
        expect(index.stats()).toEqual({ tenants: 2, chunks: 4 });
      });

      it('rejects an inconsistent batch whole, leaving the old chunks in place', async () => {
        const foreign = chunk({ chunkId: IDS.inv3, documentId: IDS.holidays, text: 'misfiled chunk' });
        await expectInvalid(() => index.upsertDocumentChunks('acme', IDS.invoices, [INVOICES[0], foreign]));
        const wrongSize = chunk({ chunkId: IDS.inv3, documentId: IDS.invoices, vector: new Float32Array(CONTRACT_DIMENSION + 2).fill(1) });
        await expectInvalid(() => index.upsertDocumentChunks('acme', IDS.invoices, [wrongSize]));
        expect(chunkIds(await search({ text: 'penalty', mode: 'lexical' }))).toEqual([IDS.inv2]);
        expect(sortedIds(await search({ vector: towards(1), mode: 'dense', filters: { documentIds: [IDS.invoices] } }))).toEqual(
          [IDS.inv1, IDS.inv2].sort(),
        );
      });

      it('upserting the same chunks again changes nothing', async () => {
        await run(() => index.upsertDocumentChunks('acme', IDS.invoices, INVOICES));
        expect(sortedIds(await search({ vector: towards(1), mode: 'dense' }))).toEqual(ALL_ACME);
        expect(index.stats()).toEqual({ tenants: 2, chunks: 5 });
      });

      it('an empty chunk list removes the document', async () => {
        await run(() => index.upsertDocumentChunks('acme', IDS.holidays, []));
        expect(chunkIds(await search({ vector: towards(2), mode: 'dense' }))).not.toContain(IDS.hol1);
        expect(index.stats()).toEqual({ tenants: 2, chunks: 4 });
      });

      it('removes a document, idempotently, and only that document', async () => {
        await run(() => index.removeDocument('acme', IDS.invoices));
        await run(() => index.removeDocument('acme', IDS.invoices));
        await run(() => index.removeDocument('acme', id(999)));
        expect(sortedIds(await search({ vector: towards(1), mode: 'dense' }))).toEqual([IDS.hol1, IDS.srv1].sort());
        expect(await search({ text: 'penalty receipt', mode: 'lexical' })).toEqual([]);
        expect(index.stats()).toEqual({ tenants: 2, chunks: 3 });
        await run(() => index.removeDocument('globex', IDS.globexDoc));
        expect(index.stats()).toEqual({ tenants: 1, chunks: 2 });
      });

      it('counts tenants and chunks', () => {
        expect(index.stats()).toEqual({ tenants: 2, chunks: 5 });
      });
    });

    describe('exact counts (what reconciliation compares with Postgres)', () => {
      it('counts chunks per tenant, 0 for a tenant without any', async () => {
        const counts = await run(() => index.countTenantChunks(['acme', 'globex', 'initech']));
        expect(Object.fromEntries(counts)).toEqual({ acme: 4, globex: 1, initech: 0 });
      });

      it('counts chunks per document of one tenant, and follows writes', async () => {
        expect(Object.fromEntries(await run(() => index.countDocumentChunks('acme')))).toEqual({
          [IDS.invoices]: 2,
          [IDS.holidays]: 1,
          [IDS.servers]: 1,
        });
        await run(() => index.removeDocument('acme', IDS.invoices));
        await run(() => index.upsertDocumentChunks('acme', IDS.holidays, [...HOLIDAYS, chunk({ chunkId: IDS.inv3, documentId: IDS.holidays, text: 'Public holidays are extra.' })]));
        expect(Object.fromEntries(await run(() => index.countDocumentChunks('acme')))).toEqual({ [IDS.holidays]: 2, [IDS.servers]: 1 });
        expect(Object.fromEntries(await run(() => index.countDocumentChunks('globex')))).toEqual({ [IDS.globexDoc]: 1 });
        expect((await run(() => index.countDocumentChunks('initech'))).size).toBe(0);
        expect(Object.fromEntries(await run(() => index.countTenantChunks(['acme'])))).toEqual({ acme: 3 });
      });
    });
  });
}
