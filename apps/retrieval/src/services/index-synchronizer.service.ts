import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { type ChunkForIndex, ChunkRepository, type DataSource } from '@quarry/persistence';
import { SEARCH_INDEX, type SearchIndex } from '@quarry/search';
import { DATA_SOURCE, LOGGER, METRICS } from '@quarry/service-kit';

// Background catch-up keeps an idle replica current; searches also catch up first (read-your-writes).
const BACKGROUND_SYNC_MS = 2000;

/**
 * Keeps this replica's in-process index equal to Postgres. At boot it loads every indexed chunk;
 * then it replays the `index_changes` log from its own watermark. Because each replica reads the
 * log itself, any number of replicas each see every new and deleted document, and a replica that
 * was down simply catches up.
 */
@Injectable()
export class IndexSynchronizer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly chunks: ChunkRepository;
  private watermark = 0n;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(SEARCH_INDEX) private readonly index: SearchIndex,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {
    this.chunks = new ChunkRepository(dataSource);
  }

  async onApplicationBootstrap(): Promise<void> {
    const started = performance.now();
    // Take the watermark first: changes made while loading are replayed afterwards (replay is idempotent).
    this.watermark = await this.chunks.latestChangeSeq();
    const all: ChunkForIndex[] = [];
    for await (const page of this.chunks.allIndexedChunks()) all.push(...page);
    const byDocument = groupByDocument(all);
    for (const [documentId, chunks] of byDocument) {
      await this.index.upsertDocumentChunks(chunks[0].tenantId, documentId, chunks);
    }
    await this.catchUp();
    this.publishSize();
    this.logger.info('index loaded from Postgres', { documents: byDocument.size, ...this.index.stats(), ms: Math.round(performance.now() - started) });
    this.timer = setInterval(() => {
      this.catchUp().catch((error: unknown) => this.logger.warn('index catch-up failed', { error: (error as Error).message }));
    }, BACKGROUND_SYNC_MS);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Applies every change since the watermark. Concurrent callers share one run. */
  catchUp(): Promise<void> {
    this.inFlight ??= this.replay().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async replay(): Promise<void> {
    for (;;) {
      const changes = await this.chunks.changesSince(this.watermark);
      if (changes.length === 0) return;
      // Only the last change of each document matters; an upsert reloads the document's current chunks.
      const latest = new Map(changes.map((change) => [change.documentId, change]));
      const upserts = [...latest.values()].filter((change) => change.kind === 'upsert');
      const loaded = groupByDocument(await this.chunks.chunksOfDocuments(upserts.map((change) => change.documentId)));
      for (const change of latest.values()) {
        const chunks = loaded.get(change.documentId) ?? [];
        if (change.kind === 'upsert' && chunks.length > 0) {
          await this.index.upsertDocumentChunks(change.tenantId, change.documentId, chunks);
        } else {
          await this.index.removeDocument(change.tenantId, change.documentId);
        }
      }
      this.watermark = changes[changes.length - 1].seq;
      this.publishSize();
    }
  }

  private publishSize(): void {
    this.metrics.indexChunks.set(this.index.stats().chunks);
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
