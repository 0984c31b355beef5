import { createHash } from 'node:crypto';
import { LocalHashingEmbedder } from '@quarry/llm';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import { ChunkRepository, type DataSource, DocumentRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { InMemoryHybridIndex } from '@quarry/search';
import { createTestSchema, type TestSchema } from '@quarry/testing';
import { IndexSynchronizer } from '../src/services/index-synchronizer.service';
import { SearchService } from '../src/services/search.service';

const embedder = new LocalHashingEmbedder({ dimensions: 64 });
const logger = createLogger({ service: 'retrieval-test', level: 'error', silent: true });

describe('retrieval replicas kept current from Postgres', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  const replicas: Array<{ synchronizer: IndexSynchronizer; search: SearchService }> = [];

  async function storeDocument(tenantId: string, filename: string, text: string): Promise<string> {
    const sha256 = createHash('sha256').update(text).digest('hex');
    const document = await new DocumentRepository(dataSource).createWithContent(
      { tenantId, filename, mediaType: 'text/plain', sha256, tags: [], folder: '/' },
      Buffer.from(text),
    );
    const [vector] = await embedder.embed([text]);
    await new ChunkRepository(dataSource).replaceDocumentChunks(tenantId, document.id, embedder.model, [
      { ordinal: 0, text, tokenCount: 10, provenance: {}, embedding: vector },
    ]);
    return document.id;
  }

  function startReplica() {
    const index = new InMemoryHybridIndex();
    const synchronizer = new IndexSynchronizer(dataSource, index, logger, new ServiceMetrics('retrieval'));
    const replica = { synchronizer, search: new SearchService(index, embedder, synchronizer) };
    replicas.push(replica);
    return replica;
  }

  const hitsOf = async (replica: { search: SearchService }, tenantId: string, query: string) =>
    (await replica.search.search({ tenantId, query, topK: 5 })).hits.map((hit) => hit.documentId);

  beforeAll(async () => {
    schema = await createTestSchema('retrieval');
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
  });

  afterAll(async () => {
    for (const replica of replicas) replica.synchronizer.onApplicationShutdown();
    await dataSource?.destroy();
    await schema?.drop();
  });

  it('loads existing chunks at boot, and every replica sees later uploads and deletions', async () => {
    const early = await storeDocument('acme', 'glaciers.txt', 'Glaciers carve U-shaped valleys over thousands of years.');
    const first = startReplica();
    const second = startReplica();
    await first.synchronizer.onApplicationBootstrap();
    await second.synchronizer.onApplicationBootstrap();
    expect(await hitsOf(first, 'acme', 'glacier valleys')).toEqual([early]);

    const late = await storeDocument('acme', 'volcanoes.txt', 'Volcanoes erupt molten basalt lava onto the ocean floor.');
    // Read-your-writes: a search catches up before it runs, on every replica.
    expect(await hitsOf(first, 'acme', 'basalt lava')).toContain(late);
    expect(await hitsOf(second, 'acme', 'basalt lava')).toContain(late);
    expect(await hitsOf(second, 'other-tenant', 'basalt lava')).toEqual([]);

    expect(await new DocumentRepository(dataSource).delete('acme', late)).toBe(true);
    expect(await hitsOf(first, 'acme', 'basalt lava')).not.toContain(late);
    expect(await hitsOf(second, 'acme', 'basalt lava')).not.toContain(late);
  });

  it('a replica started after a deletion never sees the deleted document', async () => {
    const gone = await storeDocument('acme', 'tides.txt', 'Tides follow the moon.');
    await new DocumentRepository(dataSource).delete('acme', gone);
    const fresh = startReplica();
    await fresh.synchronizer.onApplicationBootstrap();
    expect(await hitsOf(fresh, 'acme', 'tides moon')).not.toContain(gone);
  });
});
