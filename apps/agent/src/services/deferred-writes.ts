import { outageOf } from '@quarry/domain';
import type { Logger } from '@quarry/observability';

export interface DeferredWritesOptions {
  /**
   * Most records held while the database is down (a write of many records counts as many); past it
   * the oldest writes are dropped (and counted, one per record).
   */
  maxPending: number;
  /** First pause before retrying; doubles up to `maxRetryMs` while the database stays down. */
  retryMs: number;
  maxRetryMs: number;
  logger: Logger;
  /** Reports the number of records held and each dropped record (metrics). */
  onChange?: (pending: number) => void;
  onDrop?: () => void;
}

export interface WriteOptions {
  /** How many records the write holds (a batch counts as its rows against the bound). */
  weight?: number;
  /** Called if the write is given up on: dropped past the bound, or failed later for another reason than an outage. */
  onGiveUp?: () => void;
}

interface PendingWrite {
  description: string;
  write: () => Promise<unknown>;
  weight: number;
  onGiveUp?: () => void;
}

/**
 * Writes that may wait for the database: the conversation history and the query log of answers
 * given while Postgres was down. Answers come from the in-memory index and do not need Postgres,
 * so an outage should not cost the answer; the record of it is kept here, in order, and written
 * once Postgres is back. Bounded: a long outage drops the oldest records rather than the process.
 */
export class DeferredWrites {
  private readonly pending: PendingWrite[] = [];
  private held = 0;
  private timer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private flushing = false;
  private closed = false;

  constructor(private readonly options: DeferredWritesOptions) {
    this.delayMs = options.retryMs;
  }

  /** Records held for the database. */
  get size(): number {
    return this.held;
  }

  /**
   * Runs the write now. If it fails because the database is unavailable, it is kept for later and
   * this resolves false; any other failure is thrown (a bug or bad data must not be retried forever).
   */
  async writeOrDefer(description: string, write: () => Promise<unknown>, options: WriteOptions = {}): Promise<boolean> {
    // Writes queued earlier go first, so a conversation's exchanges stay in order.
    if (this.pending.length === 0) {
      try {
        await write();
        return true;
      } catch (error) {
        if (!outageOf(error)) throw error;
      }
    }
    this.defer({ description, write, weight: options.weight ?? 1, onGiveUp: options.onGiveUp });
    return false;
  }

  private defer(entry: PendingWrite): void {
    while (this.pending.length > 0 && this.held + entry.weight > this.options.maxPending) {
      const dropped = this.pending.shift() as PendingWrite;
      this.held -= dropped.weight;
      for (let record = 0; record < dropped.weight; record++) this.options.onDrop?.();
      dropped.onGiveUp?.();
      this.options.logger.warn('deferred write dropped: too many waiting for the database', { write: dropped.description, maxPending: this.options.maxPending });
    }
    this.pending.push(entry);
    this.held += entry.weight;
    this.options.onChange?.(this.held);
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
          for (let record = 0; record < next.weight; record++) this.options.onDrop?.();
          next.onGiveUp?.();
        }
        this.pending.shift();
        this.held -= next.weight;
        this.options.onChange?.(this.held);
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
    if (this.pending.length > 0) this.options.logger.warn('shutting down with writes the database never took', { pending: this.held });
  }
}
