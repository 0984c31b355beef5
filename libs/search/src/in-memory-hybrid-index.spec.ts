import { isDomainError } from '@quarry/domain';
import { InMemoryHybridIndex } from './in-memory-hybrid-index';
import type { IndexedChunk, SearchHit, SearchQuery } from './search-index.port';

const DIMENSION = 4;

/** A unit-ish vector pointing mostly along `axis`, so similarity is easy to reason about. */
function towards(axis: number, wobble = 0): Float32Array {
  const vector = new Float32Array(DIMENSION).fill(wobble);
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
    filename: `${over.documentId}.txt`,
    ordinal: 0,
    provenance: {},
    ...over,
  };
}

function query(over: Partial<SearchQuery> = {}): SearchQuery {
  return { tenantId: 'acme', text: '', vector: towards(0), topK: 10, ...over };
}

const chunkIds = (hits: SearchHit[]): string[] => hits.map((hit) => hit.chunkId);

/** Three documents about different things, each with a distinct vector direction. */
function seeded(): InMemoryHybridIndex {
  const index = new InMemoryHybridIndex();
  index.upsertDocumentChunks('acme', 'doc-invoices', [
    chunk({
      chunkId: 'inv-1',
      documentId: 'doc-invoices',
      text: 'Invoices are paid within thirty days of receipt.',
      vector: towards(1),
      tags: ['finance'],
      folder: '/finance/ap',
      filename: 'invoices.pdf',
      provenance: { page: 3 },
    }),
    chunk({
      chunkId: 'inv-2',
      documentId: 'doc-invoices',
      text: 'Late payments incur a two percent penalty.',
      vector: towards(1, 0.1),
      tags: ['finance'],
      folder: '/finance/ap',
      filename: 'invoices.pdf',
      ordinal: 1,
    }),
  ]);
  index.upsertDocumentChunks('acme', 'doc-holidays', [
    chunk({
      chunkId: 'hol-1',
      documentId: 'doc-holidays',
      text: 'Employees receive twenty-five vacation days per year.',
      vector: towards(2),
      tags: ['hr'],
      folder: '/hr',
      filename: 'holidays.md',
    }),
  ]);
  index.upsertDocumentChunks('acme', 'doc-servers', [
    chunk({
      chunkId: 'srv-1',
      documentId: 'doc-servers',
      text: 'The servers run Kubernetes and restart nightly.',
      vector: towards(3),
      tags: ['ops', 'finance'],
      folder: '/financeops',
      filename: 'servers.md',
    }),
  ]);
  return index;
}

describe('InMemoryHybridIndex', () => {
  describe('ranking', () => {
    it('ranks the chunk holding a rare query term first even when the vector points elsewhere', () => {
      const hits = seeded().search(query({ text: 'penalty', vector: towards(2) }));
      expect(hits[0].chunkId).toBe('inv-2');
      expect(hits[0].lexicalScore).toBeGreaterThan(0);
    });

    it('finds paraphrases through the vector side when no word matches', () => {
      const hits = seeded().search(query({ text: 'annual leave allowance', vector: towards(2) }));
      expect(hits[0].chunkId).toBe('hol-1');
      expect(hits[0]).not.toHaveProperty('lexicalScore');
      expect(hits[0].vectorScore).toBeCloseTo(1, 5);
    });

    it('matches inflections ("running" finds "run")', () => {
      const hits = seeded().search(query({ text: 'running', vector: new Float32Array(0) }));
      expect(chunkIds(hits)).toEqual(['srv-1']);
    });

    it('fuses by RRF on request: score is the sum of 1 / (60 + rank) over both sides', () => {
      const hits = seeded().search(query({ text: 'penalty payments', vector: towards(1, 0.1), fusion: { method: 'rrf' } }));
      // inv-2 is first lexically (only chunk with these words) and first by vector (exact match).
      expect(hits[0].chunkId).toBe('inv-2');
      expect(hits[0].score).toBeCloseTo(2 / 61, 12);
      // inv-1 is absent lexically and second by vector.
      const second = hits.find((hit) => hit.chunkId === 'inv-1');
      expect(second?.score).toBeCloseTo(1 / 62, 12);
      expect(second?.lexicalScore).toBeUndefined();
    });

    it('lets agreement between both sides beat a single first place (RRF)', () => {
      // Vector ranking: inv-1, inv-2, hol-1 (tie with srv-1 at 0, broken by id). Lexical: hol-1 only.
      // hol-1 = 1/61 + 1/63 beats inv-1 = 1/61.
      const hits = seeded().search(query({ text: 'vacation', vector: towards(1), fusion: { method: 'rrf' } }));
      expect(chunkIds(hits).slice(0, 2)).toEqual(['hol-1', 'inv-1']);
      expect(hits[0].score).toBeCloseTo(1 / 61 + 1 / 63, 12);
    });

    it('returns at most topK hits, best first', () => {
      const hits = seeded().search(query({ text: 'invoices days', topK: 2 }));
      expect(hits).toHaveLength(2);
      expect(hits[0].score).toBeGreaterThanOrEqual(hits[1].score);
      expect(seeded().search(query({ topK: 0 }))).toEqual([]);
    });

    it('by default weighs BM25 over the vector side, so a lexical match outranks a vector-only one', () => {
      // Lexical: hol-1 only. Vector: inv-1 first. Weighted fusion keeps the word match on top.
      const hits = seeded().search(query({ text: 'vacation', vector: towards(1) }));
      expect(hits[0].chunkId).toBe('hol-1');
      expect(hits[0].score).toBeGreaterThan(hits[1].score);
    });

    it('searches one side only when asked', () => {
      const lexicalOnly = seeded().search(query({ text: 'vacation', vector: towards(1), mode: 'lexical' }));
      expect(chunkIds(lexicalOnly)).toEqual(['hol-1']);
      const denseOnly = seeded().search(query({ text: 'vacation', vector: towards(1), mode: 'dense' }));
      expect(denseOnly[0].chunkId).toBe('inv-1');
      expect(denseOnly.every((hit) => hit.lexicalScore === undefined)).toBe(true);
    });

    it('carries the chunk payload into the hit', () => {
      const [hit] = seeded().search(query({ text: 'receipt', vector: towards(1), fusion: { method: 'rrf' } }));
      expect(hit).toEqual({
        chunkId: 'inv-1',
        documentId: 'doc-invoices',
        filename: 'invoices.pdf',
        text: 'Invoices are paid within thirty days of receipt.',
        ordinal: 0,
        provenance: { page: 3 },
        score: 2 / 61,
        lexicalScore: expect.any(Number) as number,
        vectorScore: expect.closeTo(1, 5) as number,
      });
    });

    it('does not let callers edit the index through a hit', () => {
      const index = seeded();
      const [hit] = index.search(query({ text: 'receipt', vector: towards(1) }));
      hit.provenance.page = 99;
      expect(index.search(query({ text: 'receipt', vector: towards(1) }))[0].provenance).toEqual({ page: 3 });
    });

    it('is not affected by callers editing what they upserted', () => {
      const index = new InMemoryHybridIndex();
      const provenance: Record<string, unknown> = { page: 1 };
      const tags = ['finance'];
      const vector = towards(1);
      index.upsertDocumentChunks('acme', 'doc', [chunk({ chunkId: 'c', documentId: 'doc', provenance, tags, vector })]);
      provenance.page = 2;
      tags[0] = 'hr';
      vector.set([1, 0, 0, 0]);
      const [hit] = index.search(query({ vector: towards(1), filters: { tags: ['finance'] } }));
      expect(hit.provenance).toEqual({ page: 1 });
      expect(hit.vectorScore).toBeCloseTo(1, 5);
    });

    it('searches lexically only when the query vector is empty', () => {
      const hits = seeded().search(query({ text: 'kubernetes', vector: new Float32Array(0) }));
      expect(chunkIds(hits)).toEqual(['srv-1']);
      expect(hits[0].vectorScore).toBeUndefined();
    });

    it('finds Unicode text', () => {
      const index = new InMemoryHybridIndex();
      index.upsertDocumentChunks('acme', 'zh', [chunk({ chunkId: 'zh-1', documentId: 'zh', text: '发票必须在三十天内支付' })]);
      index.upsertDocumentChunks('acme', 'de', [chunk({ chunkId: 'de-1', documentId: 'de', text: 'Die Rechnung für März' })]);
      expect(index.search(query({ text: '发票', vector: new Float32Array(0) }))[0].chunkId).toBe('zh-1');
      expect(index.search(query({ text: 'marz', vector: new Float32Array(0) }))[0].chunkId).toBe('de-1');
    });
  });

  describe('tenant isolation', () => {
    it('never returns another tenant’s chunks, even for an exact match', () => {
      const index = seeded();
      index.upsertDocumentChunks('globex', 'g-doc', [
        chunk({ chunkId: 'g-1', documentId: 'g-doc', tenantId: 'globex', text: 'penalty penalty penalty' }),
      ]);
      const acme = index.search(query({ text: 'penalty', vector: towards(0) }));
      expect(chunkIds(acme)).not.toContain('g-1');
      const globex = index.search(query({ tenantId: 'globex', text: 'penalty', vector: towards(1) }));
      expect(chunkIds(globex)).toEqual(['g-1']);
      expect(index.search(query({ tenantId: 'nobody', text: 'penalty' }))).toEqual([]);
    });

    it('keeps ranking statistics per tenant', () => {
      const index = new InMemoryHybridIndex();
      const solo = chunk({ chunkId: 'a-1', documentId: 'a-doc', text: 'penalty clause' });
      index.upsertDocumentChunks('acme', 'a-doc', [solo]);
      const alone = index.search(query({ text: 'penalty', vector: new Float32Array(0) }))[0].lexicalScore;
      index.upsertDocumentChunks('globex', 'g-doc', [
        chunk({ chunkId: 'g-1', documentId: 'g-doc', tenantId: 'globex', text: 'penalty everywhere' }),
        chunk({ chunkId: 'g-2', documentId: 'g-doc', tenantId: 'globex', text: 'another penalty' }),
      ]);
      expect(index.search(query({ text: 'penalty', vector: new Float32Array(0) }))[0].lexicalScore).toBe(alone);
    });

    it('scopes chunk and document ids per tenant', () => {
      const index = seeded();
      // The same ids in another tenant are another chunk, not a conflict.
      index.upsertDocumentChunks('globex', 'doc-invoices', [
        chunk({ chunkId: 'inv-1', documentId: 'doc-invoices', tenantId: 'globex', text: 'globex copy' }),
      ]);
      expect(index.stats()).toEqual({ tenants: 2, chunks: 5 });
      index.removeDocument('globex', 'doc-invoices');
      expect(chunkIds(index.search(query({ text: 'receipt' })))[0]).toBe('inv-1');
      expect(index.stats()).toEqual({ tenants: 1, chunks: 4 });
    });
  });

  describe('filters', () => {
    const everything = { text: 'invoices penalty vacation kubernetes', vector: towards(0) };

    it('filters by tag: the document has at least one of them', () => {
      const hits = seeded().search(query({ ...everything, filters: { tags: ['hr', 'ops'] } }));
      expect(chunkIds(hits).sort()).toEqual(['hol-1', 'srv-1']);
    });

    it('filters by folder: the folder or beneath it, not name prefixes', () => {
      const index = seeded();
      expect(chunkIds(index.search(query({ ...everything, filters: { folder: '/finance' } }))).sort()).toEqual([
        'inv-1',
        'inv-2',
      ]);
      expect(chunkIds(index.search(query({ ...everything, filters: { folder: '/finance/ap/' } }))).sort()).toEqual([
        'inv-1',
        'inv-2',
      ]);
      expect(index.search(query({ ...everything, filters: { folder: '/finance/ar' } }))).toEqual([]);
    });

    it('filters by document id', () => {
      const hits = seeded().search(query({ ...everything, filters: { documentIds: ['doc-servers'] } }));
      expect(chunkIds(hits)).toEqual(['srv-1']);
    });

    it('combines filters and treats empty lists as matching nothing', () => {
      const index = seeded();
      const both = index.search(query({ ...everything, filters: { tags: ['finance'], folder: '/financeops' } }));
      expect(chunkIds(both)).toEqual(['srv-1']);
      expect(index.search(query({ ...everything, filters: { documentIds: [] } }))).toEqual([]);
    });

    it('fills topK from the filtered set even when better unfiltered chunks exist', () => {
      const index = new InMemoryHybridIndex({ minCandidates: 1, candidateMultiplier: 1 });
      const chunks = Array.from({ length: 30 }, (_, i) =>
        chunk({ chunkId: `c${i}`, documentId: 'big', text: 'report report report', vector: towards(1) }),
      );
      index.upsertDocumentChunks('acme', 'big', chunks);
      index.upsertDocumentChunks('acme', 'small', [
        chunk({ chunkId: 'wanted', documentId: 'small', text: 'a long report with many other words', vector: towards(2), tags: ['x'] }),
      ]);
      const hits = index.search(query({ text: 'report', vector: towards(1), topK: 1, filters: { tags: ['x'] } }));
      expect(chunkIds(hits)).toEqual(['wanted']);
    });
  });

  describe('updates', () => {
    it('removes a document completely', () => {
      const index = seeded();
      index.removeDocument('acme', 'doc-invoices');
      const hits = index.search(query({ text: 'invoices penalty', vector: towards(1) }));
      expect(chunkIds(hits).filter((id) => id.startsWith('inv'))).toEqual([]);
      expect(index.stats()).toEqual({ tenants: 1, chunks: 2 });
      index.removeDocument('acme', 'doc-invoices'); // idempotent
      index.removeDocument('unknown-tenant', 'doc');
    });

    it('replaces a document’s chunks on re-upsert, dropping chunks that are gone', () => {
      const index = seeded();
      index.upsertDocumentChunks('acme', 'doc-invoices', [
        chunk({ chunkId: 'inv-9', documentId: 'doc-invoices', text: 'Invoices are now paid in euros.', vector: towards(1) }),
      ]);
      expect(chunkIds(index.search(query({ text: 'penalty', vector: new Float32Array(0) })))).toEqual([]);
      expect(chunkIds(index.search(query({ text: 'euros', vector: new Float32Array(0) })))).toEqual(['inv-9']);
      expect(index.stats()).toEqual({ tenants: 1, chunks: 3 });
    });

    it('treats an empty chunk list as removal and forgets empty tenants', () => {
      const index = seeded();
      for (const documentId of ['doc-invoices', 'doc-holidays']) index.upsertDocumentChunks('acme', documentId, []);
      index.removeDocument('acme', 'doc-servers');
      expect(index.stats()).toEqual({ tenants: 0, chunks: 0 });
      expect(index.search(query({ text: 'penalty' }))).toEqual([]);
    });

    it('counts tenants and chunks', () => {
      const index = seeded();
      index.upsertDocumentChunks('globex', 'g', [chunk({ chunkId: 'g-1', documentId: 'g', tenantId: 'globex' })]);
      expect(index.stats()).toEqual({ tenants: 2, chunks: 5 });
    });

    it('rejects a bad batch whole, leaving the previous version searchable', () => {
      const index = seeded();
      const good = chunk({ chunkId: 'inv-new', documentId: 'doc-invoices', text: 'replacement', vector: towards(1) });
      const attempts: IndexedChunk[][] = [
        [good, { ...good, chunkId: 'bad', vector: new Float32Array(3) }], // wrong dimension mid-batch
        [good, { ...good }], // duplicate chunk id
        [good, { ...good, chunkId: 'other', documentId: 'doc-holidays' }], // wrong document
        [good, { ...good, chunkId: 'other', tenantId: 'globex' }], // wrong tenant
        [good, { ...good, chunkId: 'hol-1' }], // steals another document's chunk id
        [good, { ...good, chunkId: 'nan', vector: Float32Array.from([Number.NaN, 0, 0, 0]) }],
      ];
      for (const batch of attempts) {
        let thrown: unknown;
        try {
          index.upsertDocumentChunks('acme', 'doc-invoices', batch);
        } catch (error) {
          thrown = error;
        }
        expect(isDomainError(thrown) && thrown.code).toBe('INVALID_PAYLOAD');
        expect(chunkIds(index.search(query({ text: 'penalty', vector: new Float32Array(0) })))).toEqual(['inv-2']);
        expect(index.stats().chunks).toBe(4);
      }
    });

    it('rejects vectors of another dimension unless the document is the tenant’s only content', () => {
      const index = seeded();
      const wide = (id: string, documentId: string): IndexedChunk =>
        chunk({ chunkId: id, documentId, vector: new Float32Array([1, 0, 0, 0, 0, 0]) });
      expect(() => index.upsertDocumentChunks('acme', 'doc-new', [wide('n-1', 'doc-new')])).toThrow(/dimension/);
      expect(() => index.search(query({ vector: new Float32Array(6) }))).toThrow(/dimension/);

      const solo = new InMemoryHybridIndex();
      solo.upsertDocumentChunks('acme', 'only', [chunk({ chunkId: 'o-1', documentId: 'only' })]);
      solo.upsertDocumentChunks('acme', 'only', [wide('o-2', 'only')]);
      expect(chunkIds(solo.search(query({ vector: new Float32Array([1, 0, 0, 0, 0, 0]) })))).toEqual(['o-2']);
    });

    it('never shows a reader half of a replaced document', async () => {
      const index = seeded();
      const version = (v: number): IndexedChunk[] =>
        Array.from({ length: 20 }, (_, i) =>
          chunk({ chunkId: `big-v${v}-${i}`, documentId: 'doc-big', text: `contract clause ${i}`, vector: towards(1) }),
        );
      index.upsertDocumentChunks('acme', 'doc-big', version(0));
      const seen: string[] = [];
      const readers = Array.from({ length: 50 }, async (_, round) => {
        await Promise.resolve();
        if (round % 2 === 0) index.upsertDocumentChunks('acme', 'doc-big', version(round));
        const hits = index.search(query({ text: 'contract clause', vector: towards(1), topK: 40, filters: { documentIds: ['doc-big'] } }));
        const versions = new Set(hits.map((hit) => hit.chunkId.split('-')[1]));
        seen.push(`${hits.length}:${versions.size}`);
      });
      await Promise.all(readers);
      expect(new Set(seen)).toEqual(new Set(['20:1']));
    });
  });
});
