import { createHash } from 'node:crypto';
import { TieredCache } from '@quarry/cache';
import { LocalHashingEmbedder } from '@quarry/llm';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import { ChunkRepository, CorpusVersions, type DataSource, DocumentRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { InMemoryHybridIndex } from '@quarry/search';
import { createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { IndexSynchronizer, type IndexSynchronizerSettings } from '../src/services/index-synchronizer.service';
import { QueryEmbeddingCache } from '../src/services/query-embedding-cache';
import { SearchResultCache } from '../src/services/search-result-cache';
import { SearchService } from '../src/services/search.service';

/** Retrieval replicas in-process against a real Postgres, and the documents they index. */
export const embedder = new LocalHashingEmbedder({ dimensions: 64 });
const logger = createLogger({ service: 'retrieval-test', level: 'error', silent: true });

export interface Replica {
  synchronizer: IndexSynchronizer;
  search: SearchService;
  metrics: ServiceMetrics;
  cache: TieredCache;
}

const CACHE_SETTINGS = { RETRIEVAL_CACHE_TTL_SECONDS: 300, QUERY_EMBEDDING_CACHE_TTL_SECONDS: 300 };

/**
 * A search service as the retrieval module builds it, with its caches: a TieredCache of its own per
 * replica (memory, then the run's Redis prefix, shared by the replicas as in production) and the
 * tenants' corpus versions.
 */
export function searchServiceFor(synchronizer: IndexSynchronizer, cache: TieredCache, versions: CorpusVersions): SearchService {
  return new SearchService(synchronizer, new QueryEmbeddingCache(cache, CACHE_SETTINGS), new SearchResultCache(cache, versions, CACHE_SETTINGS, synchronizer));
}

export class ReplicaFixture {
  private readonly replicas: Replica[] = [];
  private readonly redis = createTestRedisPrefix('retrieval');
  private readonly versions: CorpusVersions;

  constructor(
    readonly dataSource: DataSource,
    database: { url: string; schema: string },
    private readonly dropSchema: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.versions = new CorpusVersions({ databaseUrl: database.url, schema: database.schema, reconnectDelayMs: 200 });
  }

  /** A fixture on a migrated schema of its own (removed again by `close`). */
  static async onTestSchema(label: string): Promise<ReplicaFixture> {
    const schema = await createTestSchema(label);
    const dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    return new ReplicaFixture(dataSource, schema, () => schema.drop());
  }

  /** Stops the replicas, closes the connections and drops the schema and the Redis keys. */
  async close(): Promise<void> {
    await this.stopReplicas();
    await this.dataSource.destroy();
    await this.dropSchema();
  }

  /** A document with one chunk per paragraph, indexed as ingestion does it. */
  async storeDocument(tenantId: string, filename: string, ...paragraphs: string[]): Promise<string> {
    const documentId = await this.createDocument(tenantId, filename, paragraphs.join('\n\n'));
    const vectors = await embedder.embed(paragraphs);
    await new ChunkRepository(this.dataSource).replaceDocumentChunks(
      tenantId,
      documentId,
      embedder.model,
      paragraphs.map((text, ordinal) => ({ ordinal, text, tokenCount: 10, provenance: {}, embedding: vectors[ordinal] })),
    );
    return documentId;
  }

  /** A document that is stored but not indexed yet. */
  async createDocument(tenantId: string, filename: string, text: string): Promise<string> {
    const sha256 = createHash('sha256').update(text).digest('hex');
    const document = await new DocumentRepository(this.dataSource).createWithContent(
      { tenantId, filename, mediaType: 'text/plain', sha256, tags: [], folder: '/' },
      Buffer.from(text),
    );
    return document.id;
  }

  async startReplica(settings: Partial<IndexSynchronizerSettings> = {}): Promise<Replica> {
    if (this.replicas.length === 0) await this.versions.start();
    const metrics = new ServiceMetrics('retrieval');
    const cache = new TieredCache({ service: 'retrieval', redis: { url: this.redis.url, prefix: this.redis.prefix }, memoryMaxBytes: 8 * 1024 * 1024, registry: metrics.registry, logger });
    const synchronizer = new IndexSynchronizer(this.dataSource, () => new InMemoryHybridIndex(), embedder, { EMBEDDING_API_KEY: undefined, ...settings }, logger, metrics);
    const replica = { synchronizer, search: searchServiceFor(synchronizer, cache, this.versions), metrics, cache };
    this.replicas.push(replica);
    await synchronizer.onApplicationBootstrap();
    return replica;
  }

  async stopReplicas(): Promise<void> {
    for (const replica of this.replicas.splice(0)) {
      replica.synchronizer.onApplicationShutdown();
      await replica.cache.close();
    }
    await this.versions.close();
    await this.redis.cleanup();
  }
}

/** Documents found by a lexical search (exact about which documents share a term with the query), best first. */
export async function documentsFound(replica: Replica, tenantId: string, query: string): Promise<string[]> {
  const { hits } = await replica.search.search({ tenantId, query, topK: 10, mode: 'lexical' });
  return [...new Set(hits.map((hit) => hit.documentId))];
}

/** The current value of a metric without labels. */
export async function metricValue(replica: Replica, name: string): Promise<number | undefined> {
  const metric = await replica.metrics.registry.getSingleMetric(name)?.get();
  return metric?.values[0]?.value;
}

/** A transaction of its own, left open until the test commits it. */
export async function openTransaction(dataSource: DataSource) {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  return {
    query: (sql: string, parameters: unknown[]): Promise<unknown> => runner.query(sql, parameters),
    commit: async (): Promise<void> => {
      await runner.commitTransaction();
      await runner.release();
    },
  };
}
