import { createHash } from 'node:crypto';
import { type CacheStatsReport, TieredCache } from '@quarry/cache';
import { LocalHashingEmbedder } from '@quarry/llm';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import { ChunkRepository, CorpusVersions, type DataSource, DocumentRepository, EmbeddingVersionRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { InMemoryHybridIndex } from '@quarry/search';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { IndexSynchronizer } from '../src/services/index-synchronizer.service';
import type { SearchService } from '../src/services/search.service';
import { searchServiceFor } from './replica-fixture';

const embedder = new LocalHashingEmbedder({ dimensions: 64 });
const logger = createLogger({ service: 'retrieval-test', level: 'error', silent: true });

describe('retrieval replicas kept current from Postgres', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let redis: TestRedisPrefix;
  let versions: CorpusVersions;
  const replicas: Array<{ synchronizer: IndexSynchronizer; search: SearchService; cache: TieredCache }> = [];

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
    const metrics = new ServiceMetrics('retrieval');
    const cache = new TieredCache({ service: 'retrieval', redis: { url: redis.url, prefix: redis.prefix }, memoryMaxBytes: 8 * 1024 * 1024, registry: metrics.registry, logger });
    const synchronizer = new IndexSynchronizer(dataSource, () => new InMemoryHybridIndex(), embedder, { EMBEDDING_API_KEY: undefined }, logger, metrics);
    const replica = { synchronizer, search: searchServiceFor(synchronizer, cache, versions), cache };
    replicas.push(replica);
    return replica;
  }

  const retrievalHits = async (replica: { cache: TieredCache }) => {
    const report: CacheStatsReport = await replica.cache.stats();
    const kind = report.kinds.find((entry) => entry.kind === 'retrieval');
    return { memory: kind?.tiers.find((tier) => tier.tier === 'memory')?.hits ?? 0, redis: kind?.tiers.find((tier) => tier.tier === 'redis')?.hits ?? 0 };
  };

  const hitsOf = async (replica: { search: SearchService }, tenantId: string, query: string) =>
    (await replica.search.search({ tenantId, query, topK: 5 })).hits.map((hit) => hit.documentId);

  beforeAll(async () => {
    schema = await createTestSchema('retrieval');
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    redis = createTestRedisPrefix('retrievalsync');
    versions = new CorpusVersions({ databaseUrl: schema.url, schema: schema.schema });
    await versions.start();
  });

  afterAll(async () => {
    for (const replica of replicas) {
      replica.synchronizer.onApplicationShutdown();
      await replica.cache.close();
    }
    await versions?.close();
    await redis?.cleanup();
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
    // Searched (and cached, on both replicas: memory and Redis) before the document exists.
    expect(await hitsOf(first, 'acme', 'basalt lava')).toEqual([early]);
    expect(await hitsOf(second, 'acme', 'basalt lava')).toEqual([early]);

    const late = await storeDocument('acme', 'volcanoes.txt', 'Volcanoes erupt molten basalt lava onto the ocean floor.');
    // Read-your-writes: a search catches up before it runs, on every replica; the cached empty
    // result belongs to the corpus version before the upload and is not found any more.
    expect(await hitsOf(first, 'acme', 'basalt lava')).toContain(late);
    expect(await hitsOf(second, 'acme', 'basalt lava')).toContain(late);
    expect(await hitsOf(second, 'other-tenant', 'basalt lava')).toEqual([]);

    expect(await new DocumentRepository(dataSource).delete('acme', late)).toBe(true);
    expect(await hitsOf(first, 'acme', 'basalt lava')).not.toContain(late);
    expect(await hitsOf(second, 'acme', 'basalt lava')).not.toContain(late);
  });

  it('serves a repeated search from its memory, another replica\'s from Redis, and keeps each tenant\'s apart', async () => {
    const reef = await storeDocument('acme', 'reef.txt', 'Coral reefs bleach when the sea warms.');
    const first = startReplica();
    const second = startReplica();
    await first.synchronizer.onApplicationBootstrap();
    await second.synchronizer.onApplicationBootstrap();
    const lexical = async (replica: { search: SearchService }, tenantId: string, topK = 5) =>
      (await replica.search.search({ tenantId, query: 'coral reefs bleach', topK, mode: 'lexical' })).hits.map((hit) => hit.documentId);
    const before = [await retrievalHits(first), await retrievalHits(second)];
    expect(await lexical(first, 'acme')).toEqual([reef]);
    expect(await lexical(first, 'acme')).toEqual([reef]);
    expect((await retrievalHits(first)).memory).toBe(before[0].memory + 1);
    expect(await lexical(second, 'acme')).toEqual([reef]);
    expect((await retrievalHits(second)).redis).toBe(before[1].redis + 1);
    // Another tenant asking the same is another key: never the first tenant's hits.
    expect(await lexical(second, 'globex')).toEqual([]);
    // Another topK is another search.
    expect(await lexical(second, 'acme', 1)).toEqual([reef]);
    expect(await retrievalHits(second)).toEqual({ memory: before[1].memory, redis: before[1].redis + 1 });
  });

  it('a replica started after a deletion never sees the deleted document', async () => {
    const gone = await storeDocument('acme', 'tides.txt', 'Tides follow the moon.');
    await new DocumentRepository(dataSource).delete('acme', gone);
    const fresh = startReplica();
    await fresh.synchronizer.onApplicationBootstrap();
    expect(await hitsOf(fresh, 'acme', 'tides moon')).not.toContain(gone);
  });
  it('searches the query’s rephrasings too and fuses the rankings (multi-query)', async () => {
    const cars = await storeDocument('fleet', 'notes-1.txt', 'Automobile maintenance: rotate tyres and change the oil every 10,000 km.');
    const trains = await storeDocument('fleet', 'notes-2.txt', 'Railway timetables list departures from every platform.');
    const replica = startReplica();
    await replica.synchronizer.onApplicationBootstrap();
    const lexical = (variants?: string[]) => replica.search.search({ tenantId: 'fleet', query: 'car upkeep', topK: 5, mode: 'lexical', variants });
    expect((await lexical()).hits).toEqual([]); // the question shares no word with either document
    expect((await lexical(['automobile maintenance'])).hits.map((hit) => hit.documentId)).toEqual([cars]);
    const both = await lexical(['automobile maintenance', 'railway platform']);
    expect(both.hits.map((hit) => hit.documentId).sort()).toEqual([cars, trains].sort());
    expect(both.hits[0].score).toBeCloseTo(1 / 61, 12); // each found first by one phrasing
  });

  it('switches to a new embedding version without a gap: old index until the new one is complete', async () => {
    const versions = new EmbeddingVersionRepository(dataSource);
    await versions.target({ provider: 'local', model: embedder.model, dimensions: 64 });
    const kept = await storeDocument('acme', 'rivers.txt', 'Rivers erode canyons through soft sandstone.');
    const replica = startReplica();
    await replica.synchronizer.onApplicationBootstrap();
    expect(replica.synchronizer.served.embedder.model).toBe('local-hash-v1-64');

    // A re-embedding to 32 dimensions completes and switches (as the ingestion job does).
    const small = new LocalHashingEmbedder({ dimensions: 32 });
    const { building } = await versions.target({ provider: 'local', model: small.model, dimensions: 32 });
    const missing = await versions.chunksWithoutVector(building!.id, 1000);
    const vectors = await small.embed(missing.map((chunk) => chunk.text));
    await versions.saveVectors(building!.id, missing.map((chunk, index) => ({ chunkId: chunk.chunkId, vector: vectors[index] })));
    const served = replica.synchronizer.served;
    expect(await versions.activate(building!.id)).toBe(true);

    // Until the replica notices, the old index and embedder keep answering.
    expect(replica.synchronizer.served).toBe(served);
    expect(await hitsOf(replica, 'acme', 'sandstone canyons')).toContain(kept);
    await replica.synchronizer.checkVersion();
    expect(replica.synchronizer.served).not.toBe(served);
    expect(replica.synchronizer.served.embedder.model).toBe('local-hash-v1-32');
    expect(await hitsOf(replica, 'acme', 'sandstone canyons')).toContain(kept);
  });
});
