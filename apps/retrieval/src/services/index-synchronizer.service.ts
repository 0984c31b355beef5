import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type Embedder, embedderForVersion } from '@quarry/llm';
import type { Logger, ServiceMetrics } from '@quarry/observability';
import { ChunkRepository, type DataSource, EmbeddingVersionRepository } from '@quarry/persistence';
import { type SearchIndex, loadInSlices } from '@quarry/search';
import { DATA_SOURCE, LOGGER, METRICS, SERVICE_CONFIG } from '@quarry/service-kit';
import type { RetrievalConfig } from '../config';
import { QUERY_EMBEDDER, SEARCH_INDEX_FACTORY } from '../tokens';
import { CoalescingRunner } from './coalescing-runner';
import { IndexReconciler, type ReconciliationReport } from './index-reconciler';
import { type IndexTarget, type ServedIndex, newTarget, replayFeed } from './index-target';

export type { ServedIndex } from './index-target';

// Background catch-up keeps an idle replica current, and keeps trying while Postgres is away.
const BACKGROUND_SYNC_MS = 2000;
/** Rows per page when an index is loaded from Postgres: bounds what a load holds besides the index. */
const LOAD_PAGE_SIZE = 500;

const DEFAULTS = { INDEX_RECONCILE_EVERY_MS: 60_000, INDEX_FRESHNESS_WAIT_MS: 250 } as const;

export interface IndexSynchronizerSettings extends Pick<RetrievalConfig, 'EMBEDDING_API_KEY'>, Partial<Pick<RetrievalConfig, 'INDEX_RECONCILE_EVERY_MS' | 'INDEX_FRESHNESS_WAIT_MS'>> {
  /** Rows per page of a full load (tests make it small). */
  readonly loadPageSize?: number;
}

/** Makes an empty index for one embedding model (the embedded index, or a Qdrant collection). */
export type SearchIndexFactory = (embedder: Embedder) => SearchIndex;

const TIMED_OUT = Symbol('timed out');

/**
 * Keeps this replica's index equal to Postgres. At boot it loads every indexed chunk, page by page
 * and in time slices (the replica keeps answering health checks meanwhile); then it follows the
 * `index_changes` feed from its own position (gapless: see ChunkRepository.changesAfter). Because
 * each replica reads the feed itself, any number of replicas each see every new and deleted
 * document, and a replica that was down simply catches up. A periodic reconciliation compares the
 * index with Postgres and repairs what differs. When a re-embedding switches the active embedding
 * version, it builds a new index on the new vectors in the background, keeps serving the old one
 * meanwhile, and swaps in one step.
 *
 * Searches never depend on Postgres: they wait (briefly, bounded) for a catch-up only while the
 * feed is healthy, so a document reported indexed is found by the next search, and answer from
 * memory at once while Postgres is unreachable.
 */
@Injectable()
export class IndexSynchronizer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly chunks: ChunkRepository;
  private readonly versions: EmbeddingVersionRepository;
  private readonly reconciler: IndexReconciler;
  private readonly reconcileEveryMs: number;
  private readonly freshnessWaitMs: number;
  private readonly loadPageSize: number;
  private current!: IndexTarget;
  private readonly catchUps = new CoalescingRunner<void>(() => this.runCatchUp());
  /** Replays and reconciliations of the served index run one at a time (reconciliation needs a still position). */
  private exclusiveTail: Promise<unknown> = Promise.resolve();
  private catchUpStartedAt: number | undefined;
  private failingSince: number | undefined;
  private rebuilding: Promise<void> | undefined;
  private reconciling: Promise<ReconciliationReport> | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly changeListeners: Array<(tenants: ReadonlySet<string>) => void> = [];

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    @Inject(SEARCH_INDEX_FACTORY) private readonly createIndex: SearchIndexFactory,
    @Inject(QUERY_EMBEDDER) private readonly configuredEmbedder: Embedder,
    @Inject(SERVICE_CONFIG) private readonly config: IndexSynchronizerSettings,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) private readonly metrics: ServiceMetrics,
  ) {
    this.chunks = new ChunkRepository(dataSource);
    this.versions = new EmbeddingVersionRepository(dataSource);
    this.reconciler = new IndexReconciler(this.chunks, logger, metrics);
    this.reconcileEveryMs = config.INDEX_RECONCILE_EVERY_MS ?? DEFAULTS.INDEX_RECONCILE_EVERY_MS;
    this.freshnessWaitMs = config.INDEX_FRESHNESS_WAIT_MS ?? DEFAULTS.INDEX_FRESHNESS_WAIT_MS;
    this.loadPageSize = config.loadPageSize ?? LOAD_PAGE_SIZE;
  }

  /** The index and embedder searches use right now. */
  get served(): ServedIndex {
    return this.current;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.current = await this.build(await this.activeEmbedder());
    this.publishSize();
    this.metrics.indexLastCatchUp.set(Date.now() / 1000);
    this.timers = [
      setInterval(() => void this.tick(), BACKGROUND_SYNC_MS),
      setInterval(() => {
        this.reconcile().catch((error: unknown) => this.logger.warn('index reconciliation failed', { error: messageOf(error) }));
      }, this.reconcileEveryMs),
    ];
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /**
   * Applies every committed change, in a run that starts after this call (so it covers whatever
   * was committed before). Concurrent callers share runs. Rejects when Postgres cannot be read.
   */
  catchUp(): Promise<void> {
    return this.catchUps.run();
  }

  /**
   * What a search waits for before it runs: a catch-up — read-your-writes — but bounded by
   * INDEX_FRESHNESS_WAIT_MS, and not at all while the feed is failing (the last catch-up failed, or
   * one has been under way longer than the bound): the index is in memory, and the background
   * catch-up keeps trying. Never throws; true when the index covers every change committed before
   * the call (the search's result may then be cached under the corpus version read before it).
   */
  async awaitFreshness(): Promise<boolean> {
    if (this.freshnessWaitMs === 0 || !this.feedHealthy()) return false;
    try {
      await beforeDeadline(this.catchUp(), performance.now() + this.freshnessWaitMs);
      return true;
    } catch {
      // Counted and logged by the catch-up; this search answers from memory.
      return false;
    }
  }

  /** Calls `listener` with the tenants whose documents a catch-up changed in the served index, once it has. */
  onTenantsChanged(listener: (tenants: ReadonlySet<string>) => void): void {
    this.changeListeners.push(listener);
  }

  private announceChanges(tenants: ReadonlySet<string>): void {
    if (tenants.size === 0) return;
    for (const listener of this.changeListeners) listener(tenants);
  }

  /** Compares the served index with Postgres and repairs differences (see IndexReconciler). */
  reconcile(): Promise<ReconciliationReport> {
    this.reconciling ??= this.exclusive(async () => {
      const target = this.current;
      // Current first: fewer changes are in flight (and the ones that are get left out).
      this.announceChanges(await replayFeed(this.chunks, target));
      return this.reconciler.reconcile(target);
    }).finally(() => {
      this.reconciling = undefined;
      this.publishSize();
    });
    return this.reconciling;
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

  private async tick(): Promise<void> {
    try {
      await this.catchUp();
    } catch {
      return; // counted and logged by the catch-up; the next tick tries again
    }
    await this.checkVersion().catch((error: unknown) => this.logger.warn('embedding version check failed', { error: messageOf(error) }));
  }

  private async runCatchUp(): Promise<void> {
    // Counted from before the lock: behind a long reconciliation, later searches stop waiting too.
    this.catchUpStartedAt = performance.now();
    try {
      this.announceChanges(await this.exclusive(() => replayFeed(this.chunks, this.current)));
      this.catchUpSucceeded();
    } catch (error) {
      this.catchUpFailed(error);
      throw error;
    } finally {
      this.catchUpStartedAt = undefined;
      this.publishSize();
    }
  }

  private feedHealthy(): boolean {
    if (this.failingSince !== undefined) return false;
    return this.catchUpStartedAt === undefined || performance.now() - this.catchUpStartedAt <= this.freshnessWaitMs;
  }

  private catchUpSucceeded(): void {
    this.metrics.indexLastCatchUp.set(Date.now() / 1000);
    if (this.failingSince === undefined) return;
    this.logger.info('index catch-up works again', { failedForMs: Math.round(performance.now() - this.failingSince) });
    this.failingSince = undefined;
  }

  private catchUpFailed(error: unknown): void {
    this.metrics.indexCatchUpFailures.inc();
    if (this.failingSince !== undefined) return; // said once per outage, counted every time
    this.failingSince = performance.now();
    this.logger.warn('index catch-up failed: searches are answered from memory until it works again', { error: messageOf(error) });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.exclusiveTail.then(work, work);
    this.exclusiveTail = run.catch(() => undefined);
    return run;
  }

  private async switchTo(embedder: Embedder): Promise<void> {
    const started = performance.now();
    this.logger.info('embedding version changed: building the new index while serving the old one', { from: this.current.embedder.model, to: embedder.model });
    const next = await this.build(embedder);
    this.current = next;
    this.publishSize();
    this.logger.info('switched to the new index', { model: embedder.model, ms: Math.round(performance.now() - started) });
  }

  /**
   * A complete index for one embedding model, from Postgres. The feed position is taken BEFORE the
   * load (see ChunkRepository.feedStart): changes committed while loading are replayed afterwards.
   * The load is page by page (only one page of rows held) and in time slices.
   */
  private async build(embedder: Embedder): Promise<IndexTarget> {
    const started = performance.now();
    const index = this.createIndex(embedder);
    const target = newTarget({ index, embedder }, await this.chunks.feedStart());
    const loaded = await loadInSlices(index, this.chunks.indexedChunkPages(embedder.model, this.loadPageSize));
    await replayFeed(this.chunks, target);
    this.logger.info('index loaded from Postgres', { model: embedder.model, ...loaded, ...index.stats(), ms: Math.round(performance.now() - started) });
    return target;
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
    if (this.current) this.metrics.indexChunks.set(this.current.index.stats().chunks);
  }
}

/** The promise's value, or TIMED_OUT once `deadline` (performance.now() time) passes; a later rejection is ignored. */
async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, deadline - performance.now()));
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
