import { outageOf } from '@quarry/domain';
import type { Logger } from '@quarry/observability';

export interface DeferredWritesOptions {
  /** Most writes held while the database is down; past it the oldest are dropped (and counted). */
  maxPending: number;
  /** First pause before retrying; doubles up to `maxRetryMs` while the database stays down. */
  retryMs: number;
  maxRetryMs: number;
  logger: Logger;
  /** Reports the number held and each drop (metrics). */
  onChange?: (pending: number) => void;
  onDrop?: () => void;
}

interface PendingWrite {
  description: string;
  write: () => Promise<unknown>;
}

/**
 * Writes that may wait for the database: the conversation history and the query log of answers
 * given while Postgres was down. Answers come from the in-memory index and do not need Postgres,
 * so an outage should not cost the answer; the record of it is kept here, in order, and written
 * once Postgres is back. Bounded: a long outage drops the oldest records rather than the process.
 */
export class DeferredWrites {
  private readonly pending: PendingWrite[] = [];
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private flushing = false;
  private closed = false;

  constructor(private readonly options: DeferredWritesOptions) {
    this.delayMs = options.retryMs;
  }

  get size(): number {
    return this.pending.length;
  }

  /**
   * Runs the write now. If it fails because the database is unavailable, it is kept for later and
   * this resolves false; any other failure is thrown (a bug or bad data must not be retried forever).
   */
  async writeOrDefer(description: string, write: () => Promise<unknown>): Promise<boolean> {
    // Writes queued earlier go first, so a conversation's exchanges stay in order.
    if (this.pending.length === 0) {
      try {
        await write();
        return true;
      } catch (error) {
        if (!outageOf(error)) throw error;
      }
    }
    this.defer({ description, write });
    return false;
  }

  private defer(entry: PendingWrite): void {
    if (this.pending.length >= this.options.maxPending) {
      const dropped = this.pending.shift();
      this.options.onDrop?.();
      this.options.logger.warn('deferred write dropped: too many waiting for the database', { write: dropped?.description, maxPending: this.options.maxPending });
    }
    this.pending.push(entry);
    this.options.onChange?.(this.pending.length);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.flushing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Writes what is held, oldest first, until one fails for an outage again (then waits longer). */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const next = this.pending[0];
        try {
          await next.write();
        } catch (error) {
          if (outageOf(error)) {
            this.delayMs = Math.min(this.delayMs * 2, this.options.maxRetryMs);
            return;
          }
          this.options.logger.error('deferred write failed; dropping it', { write: next.description, error: (error as Error).message });
          this.options.onDrop?.();
        }
        this.pending.shift();
        this.options.onChange?.(this.pending.length);
      }
      this.delayMs = this.options.retryMs;
      this.options.logger.info('deferred writes caught up with the database');
    } finally {
      this.flushing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }

  /** One last attempt at shutdown; whatever still cannot be written is reported. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
    if (this.pending.length > 0) this.options.logger.warn('shutting down with writes the database never took', { pending: this.pending.length });
  }
}
