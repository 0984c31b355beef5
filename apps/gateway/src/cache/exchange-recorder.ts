import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { JobName, RECORD_EXCHANGES_MAX, type RecordExchangePayload } from '@quarry/contracts';
import { type Logger, currentCorrelationId } from '@quarry/observability';
import { JOB_CLIENT, LOGGER } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';

// Under load one job per this long; a single exchange waits no longer than this to be sent.
const FLUSH_EVERY_MS = 50;
// Exchanges held while the agent's queue cannot be reached; beyond it the oldest are dropped (and logged).
const MAX_HELD = 10_000;

/**
 * The exchanges answered from the answer cache, sent to the agent to be recorded — many per job
 * (`agent.record-exchanges`): one queue write per cached answer cost the gateway a fifth of its CPU
 * under load (measured), and the agent a job each. Sent within 50 ms, or at once when a job is
 * full; what is held is sent at shutdown; a failed send is tried again with the next batch.
 */
@Injectable()
export class ExchangeRecorder implements OnApplicationShutdown {
  private held: RecordExchangePayload[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Keeps the request's correlation id with the exchange: the batch is sent from a timer, outside the request. */
  record(exchange: RecordExchangePayload): void {
    this.held.push({ correlationId: currentCorrelationId(), ...exchange });
    if (this.held.length > MAX_HELD) {
      const dropped = this.held.splice(0, this.held.length - MAX_HELD);
      this.logger.error('exchanges answered from the cache were not recorded: the agent queue was out of reach too long', { dropped: dropped.length });
    }
    if (this.held.length >= RECORD_EXCHANGES_MAX) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.flush();
    await this.sending;
    // A send that failed at shutdown put its batch back; nobody is left to retry it.
    clearTimeout(this.timer);
    if (this.held.length > 0) this.logger.error('exchanges answered from the cache were not recorded: the agent queue was out of reach at shutdown', { lost: this.held.length });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.held.length === 0) return;
    const batch = this.held.splice(0, RECORD_EXCHANGES_MAX);
    this.sending = this.sending.then(() => this.send(batch));
    if (this.held.length > 0) this.timer = setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  private async send(batch: RecordExchangePayload[]): Promise<void> {
    try {
      await this.jobs.publish(JobName.RecordExchanges, { exchanges: batch });
    } catch (error) {
      // Kept for the next batch (bounded by MAX_HELD): an outage loses no record it can outlast.
      this.held.unshift(...batch);
      this.timer ??= setTimeout(() => this.flush(), 1000);
      this.logger.warn('could not send exchanges answered from the cache; trying again', { exchanges: batch.length, error: (error as Error).message });
    }
  }
}
