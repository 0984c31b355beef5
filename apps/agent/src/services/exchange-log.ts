import { outageOf } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import type { DeferredWrites } from './deferred-writes';
import type { ExchangeBatchRepository, ExchangeRecord } from '@quarry/persistence';

export interface ExchangeLogOptions {
  writer: Pick<ExchangeBatchRepository, 'write'>;
  deferred: DeferredWrites;
  logger: Logger;
  /**
   * Least time between the starts of two writes. A record made while the log is idle is written at
   * once (at the end of the current turn, with whatever else that turn recorded); under load, the
   * records of up to this long go out together, in one transaction.
   */
  intervalMs: number;
  /** A write starts without waiting for the interval once this many records are waiting. */
  maxBatch: number;
  /** Counts each exchange that will never be written: refused (its conversation is not the tenant's) or failed for good. */
  onLost?: () => void;
}

/**
 * The agent's write-behind log of answered questions. An answer is returned without waiting for
 * Postgres: its exchange, query-log row and trace are buffered here and written behind the reply, many at a
 * time in one transaction (ExchangeBatchRepository), by one write at a time. A write that fails because
 * Postgres is down is handed to DeferredWrites, which holds it, in order, until Postgres is back.
 * close() writes what is buffered (the last answers before a shutdown are not lost).
 *
 * Read-your-writes: a conversation whose first exchange has not reached Postgres yet (buffered,
 * being written, or held through an outage) is known here, with its tenant, until it has.
 */
export class ExchangeLog {
  private buffer: ExchangeRecord[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private lastStartAt = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** Conversations started by exchanges not in Postgres yet: id → tenant and how many such exchanges. */
  private readonly unwritten = new Map<string, { tenantId: string; count: number }>();
  /** Every exchange not in Postgres yet (buffered, being written, or held through an outage), by conversation. */
  private readonly pendingByConversation = new Map<string, ExchangeRecord[]>();

  constructor(private readonly options: ExchangeLogOptions) {}

  /** Records waiting here (not counting those held through an outage: see DeferredWrites). */
  get buffered(): number {
    return this.buffer.length;
  }

  /** The tenant of a conversation started by an exchange that is not in Postgres yet, else undefined. */
  unwrittenTenantOf(conversationId: string): string | undefined {
    return this.unwritten.get(conversationId)?.tenantId;
  }

  /** The tenant's exchanges of the conversation that are not in Postgres yet, oldest first (a follow-up's history reads them). */
  unwrittenExchangesOf(tenantId: string, conversationId: string): ExchangeRecord['exchange'][] {
    return (this.pendingByConversation.get(conversationId) ?? []).filter((record) => record.exchange.tenantId === tenantId).map((record) => record.exchange);
  }

  record(record: ExchangeRecord): void {
    const { exchange } = record;
    this.pendingByConversation.set(exchange.conversationId, [...(this.pendingByConversation.get(exchange.conversationId) ?? []), record]);
    if (exchange.startsConversation) {
      const known = this.unwritten.get(exchange.conversationId);
      if (known) known.count++;
      else this.unwritten.set(exchange.conversationId, { tenantId: exchange.tenantId, count: 1 });
    }
    this.buffer.push(record);
    this.schedule();
  }

  /** Writes everything recorded so far (or hands it to DeferredWrites); resolves when done. */
  async flush(): Promise<void> {
    this.cancelSchedule();
    while (this.writing || this.buffer.length > 0) {
      if (this.writing) await this.writing;
      else this.start();
    }
  }

  /** Writes what is buffered; records made after this are written at once, one batch each turn. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private schedule(): void {
    if (this.writing || this.timer || this.immediate) return;
    const wait = this.closed || this.buffer.length >= this.options.maxBatch ? 0 : this.lastStartAt + this.options.intervalMs - performance.now();
    if (wait <= 0) {
      // The end of this turn: records of concurrent answers made in the same turn go together.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.start();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.start();
      }, wait);
    }
  }

  private cancelSchedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }

  private start(): void {
    if (this.writing || this.buffer.length === 0) return;
    this.cancelSchedule();
    const batch = this.buffer.splice(0, this.options.maxBatch);
    this.lastStartAt = performance.now();
    this.writing = this.write(batch).finally(() => {
      this.writing = undefined;
      if (this.buffer.length > 0) this.schedule();
    });
  }

  private async write(batch: ExchangeRecord[]): Promise<void> {
    const description = `${batch.length} answered question(s)`;
    try {
      await this.options.deferred.writeOrDefer(description, () => this.writeBatch(batch), { weight: batch.length, onGiveUp: () => this.forget(batch) });
    } catch (error) {
      // writeBatch isolates bad rows itself; anything else is a bug, and must not stop later writes.
      this.options.logger.error('answered questions not recorded', { records: batch.length, error: (error as Error).message });
      for (let record = 0; record < batch.length; record++) this.options.onLost?.();
      this.forget(batch);
    }
  }

  /**
   * Writes the batch. A failure other than an outage (a bug, bad data) writes the records one by
   * one, so only the bad one is lost; written ones leave the batch, so a retry after an outage met
   * meanwhile does not write them twice.
   */
  private async writeBatch(batch: ExchangeRecord[]): Promise<void> {
    try {
      this.refused(await this.options.writer.write(batch));
      this.forget(batch.splice(0));
      return;
    } catch (error) {
      if (outageOf(error) || batch.length === 1) throw error;
    }
    while (batch.length > 0) {
      const [record] = batch;
      try {
        this.refused(await this.options.writer.write([record]));
      } catch (error) {
        if (outageOf(error)) throw error;
        this.options.logger.error('answered question not recorded', { conversationId: record.exchange.conversationId, error: (error as Error).message });
        this.options.onLost?.();
      }
      this.forget(batch.splice(0, 1));
    }
  }

  private refused(records: ExchangeRecord[]): void {
    for (const { exchange } of records) {
      this.options.onLost?.();
      this.options.logger.warn('exchange not recorded: the conversation is not the tenant\'s', { conversationId: exchange.conversationId, tenantId: exchange.tenantId });
    }
  }

  private forget(records: readonly ExchangeRecord[]): void {
    for (const record of records) {
      const { exchange } = record;
      const pending = this.pendingByConversation.get(exchange.conversationId)?.filter((other) => other !== record) ?? [];
      if (pending.length > 0) this.pendingByConversation.set(exchange.conversationId, pending);
      else this.pendingByConversation.delete(exchange.conversationId);
      if (!exchange.startsConversation) continue;
      const known = this.unwritten.get(exchange.conversationId);
      if (known && --known.count <= 0) this.unwritten.delete(exchange.conversationId);
    }
  }
}
