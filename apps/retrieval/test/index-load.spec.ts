import { ChunkRepository, type DataSource } from '@quarry/persistence';
import { ReplicaFixture, documentsFound } from './replica-fixture';

describe('loading a replica’s index page by page', () => {
  let fixture: ReplicaFixture;
  let dataSource: DataSource;

  beforeAll(async () => {
    fixture = await ReplicaFixture.onTestSchema('retrievalload');
    dataSource = fixture.dataSource;
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('loads documents that span pages whole, and only the served embedding model’s chunks', async () => {
    const documents: string[] = [];
    for (let n = 0; n < 5; n++) {
      documents.push(await fixture.storeDocument('acme', `d${n}.txt`, `Alpha part of ${n}.`, `Beta part of ${n}.`, `Gamma part of ${n}.`));
    }
    const otherModel = await fixture.createDocument('acme', 'other-model.txt', 'Delta embedded elsewhere.');
    await new ChunkRepository(dataSource).replaceDocumentChunks('acme', otherModel, 'another-model', [
      { ordinal: 0, text: 'Delta embedded elsewhere.', tokenCount: 3, provenance: {}, embedding: new Float32Array(8).fill(0.5) },
    ]);
    await fixture.createDocument('acme', 'queued.txt', 'Epsilon not indexed yet.');

    // Pages of 2 rows: every document of 3 chunks continues on the next page.
    const replica = await fixture.startReplica({ loadPageSize: 2 });
    const held = await replica.synchronizer.served.index.countDocumentChunks('acme');
    expect(Object.fromEntries(held)).toEqual(Object.fromEntries(documents.map((id) => [id, 3])));
    expect((await documentsFound(replica, 'acme', 'gamma')).sort()).toEqual([...documents].sort());
    expect(await documentsFound(replica, 'acme', 'delta epsilon')).toEqual([]);
  });

  it('pages through the chunks in document order, a page at a time', async () => {
    const pages: Array<Array<{ documentId: string; ordinal: number }>> = [];
    for await (const page of new ChunkRepository(dataSource).indexedChunkPages('local-hash-v1-64', 4)) {
      pages.push(page.map((chunk) => ({ documentId: chunk.documentId, ordinal: chunk.ordinal })));
    }
    expect(pages.map((page) => page.length)).toEqual([4, 4, 4, 3]);
    const rows = pages.flat();
    const sorted = [...rows].sort((a, b) => (a.documentId === b.documentId ? a.ordinal - b.ordinal : a.documentId < b.documentId ? -1 : 1));
    expect(rows).toEqual(sorted);
  });
});
