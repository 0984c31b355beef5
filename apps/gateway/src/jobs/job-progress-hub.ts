import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { type DependencyEndpoints, endpointsFromUrls, outageOf } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import type { DocumentStatus } from '@quarry/contracts';
import { type DataSource, type DocumentProgress, DocumentRepository, type KnownProgress } from '@quarry/persistence';
import { DATA_SOURCE, LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import { type JobView, JobsService } from './jobs.service';

/** While the database is unreachable, ask less often; streams stay open and resume when it is back. */
const RETRY_MS = 1000;
/** Processing histories read at once for changed documents (the connection pool serves requests too). */
const HISTORY_CONCURRENCY = 4;

export interface ProgressWatcher {
  /** The job's document changed: its new view. */
  changed(view: JobView): void;
  /** The job's document is gone (deleted). */
  gone(): void;
  /** The gateway is shutting down. */
  shutdown(): void;
}

export interface WatchedJob {
  tenantId: string;
  jobId: string;
  documentId: string;
  /** The document as the watcher already has it. */
  seen: { status: DocumentStatus; stage: string | null; progress: number };
}

interface Watch {
  tenantId: string;
  jobId: string;
  documentId: string;
  /** What was last delivered; null: deliver the current state at the next poll. */
  known: WatchedJob['seen'] | null;
  watchers: Set<ProgressWatcher>;
}

const sameState = (a: WatchedJob['seen'] | null, b: WatchedJob['seen']) =>
  a !== null && a.status === b.status && a.stage === b.stage && a.progress === b.progress;

/**
 * The gateway's one progress poller. Every open progress stream registers its job here; one
 * timer checks every watched document with ONE query per interval (tenant-scoped, by primary key;
 * the database compares with what was last delivered, so an idle poll returns nothing) and fans
 * changes out to the streams of that job. The processing history, which the events carry, is read
 * only for a document that changed.
 *
 * Why polling and not LISTEN/NOTIFY or Redis pub/sub: every writer of a document's progress
 * (ingestion steps, the reconciler, a cancel on another gateway replica) would have to notify, and
 * a notification sent while this gateway was disconnected is lost, so a poll would still be needed
 * to catch up. One indexed query per 250 ms costs the same for 1 or 10,000 streams.
 */
@Injectable()
export class JobProgressHub implements OnModuleDestroy {
  private readonly documents: DocumentRepository;
  private readonly endpoints: DependencyEndpoints;
  /** How fresh progress events are; one query per interval, however many streams are open. */
  private readonly pollMs: number;
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  private failingSince: number | undefined;

  constructor(
    @Inject(DATA_SOURCE) dataSource: DataSource,
    private readonly jobs: JobsService,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'DATABASE_URL' | 'REDIS_URL' | 'SSE_POLL_MS'>,
  ) {
    this.pollMs = config.SSE_POLL_MS;
    this.documents = new DocumentRepository(dataSource);
    this.endpoints = endpointsFromUrls({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL });
  }

  /** Starts delivering changes of the job to the watcher; the returned function stops it. */
  watch(job: WatchedJob, watcher: ProgressWatcher): () => void {
    const key = `${job.tenantId}/${job.jobId}`;
    const existing = this.watches.get(key);
    const watch = existing ?? { tenantId: job.tenantId, jobId: job.jobId, documentId: job.documentId, known: { ...job.seen }, watchers: new Set() };
    if (!existing) this.watches.set(key, watch);
    // A stream that read its first view before the last poll may hold an older state than the one
    // this watch last delivered: have the next poll deliver the current one again (streams drop
    // what they already sent).
    else if (!sameState(existing.known, job.seen)) existing.known = null;
    watch.watchers.add(watcher);
    this.schedule(this.pollMs);
    return () => {
      watch.watchers.delete(watcher);
      if (watch.watchers.size === 0 && this.watches.get(key) === watch) this.watches.delete(key);
    };
  }

  /** Jobs being watched (streams of the same job share one). */
  get watchedJobs(): number {
    return this.watches.size;
  }

  onModuleDestroy(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const watches = [...this.watches.values()];
    this.watches.clear();
    for (const watch of watches) this.notify(watch, (watcher) => watcher.shutdown());
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.polling || this.closed || this.watches.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, delayMs);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    let next = this.pollMs;
    try {
      await this.pollOnce();
      if (this.failingSince !== undefined) {
        this.logger.info('progress polling resumed', { pausedMs: Date.now() - this.failingSince, watchedJobs: this.watches.size });
        this.failingSince = undefined;
      }
    } catch (error) {
      next = Math.max(RETRY_MS, this.pollMs);
      if (this.failingSince === undefined) {
        this.failingSince = Date.now();
        this.logger.warn('progress polling paused; open streams keep their heartbeats', {
          dependency: outageOf(error, this.endpoints) ?? 'none recognised',
          error: (error as Error)?.message,
        });
      }
    } finally {
      this.polling = false;
      this.schedule(next);
    }
  }

  private async pollOnce(): Promise<void> {
    const watches = [...this.watches.values()];
    if (watches.length === 0) return;
    const known: KnownProgress[] = watches.map((watch) => ({
      tenantId: watch.tenantId,
      id: watch.documentId,
      status: watch.known?.status ?? null,
      stage: watch.known?.stage ?? null,
      progress: watch.known?.progress ?? 0,
    }));
    // Only changed and vanished documents come back: an idle poll returns no rows.
    const changes = await this.documents.progressChanges(known);
    const byDocument = new Map(watches.map((watch) => [`${watch.tenantId}/${watch.documentId}`, watch]));
    const changed: Array<{ watch: Watch; row: DocumentProgress }> = [];
    for (const change of changes) {
      const watch = byDocument.get(`${change.tenantId}/${change.id}`);
      if (!watch) continue;
      if (change.gone) {
        this.forget(watch);
        this.notify(watch, (watcher) => watcher.gone());
      } else {
        changed.push({ watch, row: change });
      }
    }
    for (let start = 0; start < changed.length; start += HISTORY_CONCURRENCY) {
      await Promise.all(
        changed.slice(start, start + HISTORY_CONCURRENCY).map(async ({ watch, row }) => {
          const view = await this.jobs.viewOf(watch.jobId, row);
          watch.known = { status: row.status, stage: row.stage, progress: row.progress };
          this.notify(watch, (watcher) => watcher.changed(view));
        }),
      );
    }
  }

  private forget(watch: Watch): void {
    const key = `${watch.tenantId}/${watch.jobId}`;
    if (this.watches.get(key) === watch) this.watches.delete(key);
  }

  /** A failing stream must not stop the others (or the poller). */
  private notify(watch: Watch, deliver: (watcher: ProgressWatcher) => void): void {
    for (const watcher of [...watch.watchers]) {
      try {
        deliver(watcher);
      } catch (error) {
        this.logger.warn('progress stream failed', { jobId: watch.jobId, error: (error as Error)?.message });
      }
    }
  }
}
