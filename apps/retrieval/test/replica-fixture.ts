import { createHash } from 'node:crypto';
import { LocalHashingEmbedder } from '@quarry/llm';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import { ChunkRepository, type DataSource, DocumentRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { InMemoryHybridIndex } from '@quarry/search';
import { createTestSchema } from '@quarry/testing';
import { IndexSynchronizer, type IndexSynchronizerSettings } from '../src/services/index-synchronizer.service';
import { SearchService } from '../src/services/search.service';

/** Retrieval replicas in-process against a real Postgres, and the documents they index. */
export const embedder = new LocalHashingEmbedder({ dimensions: 64 });
const logger = createLogger({ service: 'retrieval-test', level: 'error', silent: true });

export interface Replica {
  synchronizer: IndexSynchronizer;
  search: SearchService;
  metrics: ServiceMetrics;
}

export class ReplicaFixture {
  private readonly replicas: Replica[] = [];

  constructor(
    readonly dataSource: DataSource,
    private readonly dropSchema: () => Promise<void> = () => Promise.resolve(),
  ) {}

  /** A fixture on a migrated schema of its own (removed again by `close`). */
  static async onTestSchema(label: string): Promise<ReplicaFixture> {
    const schema = await createTestSchema(label);
    const dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    return new ReplicaFixture(dataSource, () => schema.drop());
  }

  /** Stops the replicas, closes the connections and drops the schema. */
  async close(): Promise<void> {
    this.stopReplicas();
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
    const metrics = new ServiceMetrics('retrieval');
    const synchronizer = new IndexSynchronizer(this.dataSource, () => new InMemoryHybridIndex(), embedder, { EMBEDDING_API_KEY: undefined, ...settings }, logger, metrics);
    const replica = { synchronizer, search: new SearchService(synchronizer), metrics };
    this.replicas.push(replica);
    await synchronizer.onApplicationBootstrap();
    return replica;
  }

  stopReplicas(): void {
    for (const replica of this.replicas) replica.synchronizer.onApplicationShutdown();
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
