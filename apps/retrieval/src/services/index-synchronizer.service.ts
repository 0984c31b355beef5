import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Embedder, embedderForVersion } from '@quarry/llm';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { type ChunkForIndex, ChunkRepository, type DataSource, EmbeddingVersionRepository } from '@quarry/persistence';
import type { SearchIndex } from '@quarry/search';
import { DATA_SOURCE, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { RetrievalConfig } from '../config';
import { QUERY_EMBEDDER, SEARCH_INDEX_FACTORY } from '../tokens';

// Background catch-up keeps an idle replica current; searches also catch up first (read-your-writes).
const BACKGROUND_SYNC_MS = 2000;

/** Makes an empty index for one embedding model (the embedded index, or a Qdrant collection). */
export type SearchIndexFactory = (embedder: Embedder) => SearchIndex;

/** What a search runs against: an index and the embedder of the version its vectors belong to. */
export interface ServedIndex {
  index: SearchIndex;
  embedder: Embedder;
}

/**
 * Keeps this replica's index equal to Postgres. At boot it loads every indexed chunk; then it replays
 * the `index_changes` log from its own watermark. Because each replica reads the log itself, any
 * number of replicas each see every new and deleted document, and a replica that was down simply
 * catches up. When a re-embedding switches the active embedding version, it builds a new index on
 * the new vectors in the background, keeps serving the old one meanwhile, and swaps in one step.
 */
@Injectable()
export class IndexSynchronizer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly chunks: ChunkRepository;
  private readonly versions: EmbeddingVersionRepository;
  private current!: ServedIndex & { watermark: bigint };
  private inFlight: Promise<void> | undefined;
  private rebuilding: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(SEARCH_INDEX_FACTORY) private readonly createIndex: SearchIndexFactory,
    @Inject(QUERY_EMBEDDER) private readonly configuredEmbedder: Embedder,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<RetrievalConfig, 'EMBEDDING_API_KEY'>,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {
    this.chunks = new ChunkRepository(dataSource);
    this.versions = new EmbeddingVersionRepository(dataSource);
  }

  /** The index and embedder searches use right now. */
  get served(): ServedIndex {
    return this.current;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.current = await this.build(await this.activeEmbedder());
    this.publishSize();
    this.timer = setInterval(() => {
      this.tick().catch((error: unknown) => this.logger.warn('index catch-up failed', { error: (error as Error).message }));
    }, BACKGROUND_SYNC_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Applies every change since the watermark. Concurrent callers share one run. */
  catchUp(): Promise<void> {
    this.inFlight ??= this.replay(this.current).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async tick(): Promise<void> {
    await this.catchUp();
    await this.checkVersion();
  }

  /** Starts (or joins) the switch to the active embedding version if it is not the one served. */
  async checkVersion(): Promise<void> {
    const active = await this.activeEmbedder();
    if (active.model !== this.current.embedder.model) {
      this.rebuilding ??= this.switchTo(active).finally(() => {
        this.rebuilding = undefined;
      });
    }
    await this.rebuilding;
  }

  private async switchTo(embedder: Embedder): Promise<void> {
    const started = performance.now();
    this.logger.info('embedding version changed: building the new index while serving the old one', { from: this.current.embedder.model, to: embedder.model });
    const next = await this.build(embedder);
    this.current = next;
    this.publishSize();
    this.logger.info('switched to the new index', { model: embedder.model, ms: Math.round(performance.now() - started) });
  }

  /** A complete index for one embedding model, from Postgres. */
  private async build(embedder: Embedder): Promise<ServedIndex & { watermark: bigint }> {
    const started = performance.now();
    const index = this.createIndex(embedder);
    // Take the watermark first: changes made while loading are replayed afterwards (replay is idempotent).
    const target = { index, embedder, watermark: await this.chunks.latestChangeSeq() };
    const all: ChunkForIndex[] = [];
    for await (const page of this.chunks.allIndexedChunks()) all.push(...page.filter((chunk) => chunk.embeddingModel === embedder.model));
    const byDocument = groupByDocument(all);
    for (const [documentId, chunks] of byDocument) await index.upsertDocumentChunks(chunks[0].tenantId, documentId, chunks);
    await this.replay(target);
    this.logger.info('index loaded from Postgres', { model: embedder.model, documents: byDocument.size, ...index.stats(), ms: Math.round(performance.now() - started) });
    return target;
  }

  private async replay(target: ServedIndex & { watermark: bigint }): Promise<void> {
    for (;;) {
      const changes = await this.chunks.changesSince(target.watermark);
      if (changes.length === 0) return;
      // Only the last change of each document matters; an upsert reloads the document's current chunks.
      const latest = new Map(changes.map((change) => [change.documentId, change]));
      const upserts = [...latest.values()].filter((change) => change.kind === 'upsert');
      // Chunks embedded for another version belong to the index that version's switch builds.
      const loaded = groupByDocument(
        (await this.chunks.chunksOfDocuments(upserts.map((change) => change.documentId))).filter((chunk) => chunk.embeddingModel === target.embedder.model),
      );
      for (const change of latest.values()) {
        const chunks = loaded.get(change.documentId) ?? [];
        if (change.kind === 'upsert' && chunks.length > 0) await target.index.upsertDocumentChunks(change.tenantId, change.documentId, chunks);
        else await target.index.removeDocument(change.tenantId, change.documentId);
      }
      target.watermark = changes[changes.length - 1].seq;
      if (target === this.current) this.publishSize();
    }
  }

  /** The embedder of the active version; the configured one until ingestion has recorded a version. */
  private async activeEmbedder(): Promise<Embedder> {
    const active = await this.versions.active();
    if (!active) return this.configuredEmbedder;
    if (this.current && active.model === this.current.embedder.model) return this.current.embedder;
    if (active.model === this.configuredEmbedder.model) return this.configuredEmbedder;
    return embedderForVersion(active, this.config.EMBEDDING_API_KEY);
  }

  private publishSize(): void {
    this.metrics.indexChunks.set(this.current.index.stats().chunks);
  }
}

function groupByDocument(chunks: ChunkForIndex[]): Map<string, ChunkForIndex[]> {
  const byDocument = new Map<string, ChunkForIndex[]>();
  for (const chunk of chunks) {
    const list = byDocument.get(chunk.documentId) ?? [];
    list.push(chunk);
    byDocument.set(chunk.documentId, list);
  }
  return byDocument;
}
