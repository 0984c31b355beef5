import type { Logger } from '@quarry/observability';
import type { AlertOrigin, AlertTransition, SystemAlertRepository } from '@quarry/persistence';
import type { ResourceAlert } from './resource-monitor';

export type AlertStore = Pick<SystemAlertRepository, 'recordTransition' | 'closeOpenOf' | 'closeLeftBehind'>;

export interface AlertRecorderLimits {
  /** Transitions held while Postgres cannot take them; past it the oldest is dropped. */
  maxPending: number;
  /** How long after a failed write the next attempt is made. */
  retryMs: number;
  /** How long a stopping process waits for its held transitions to be written. */
  stopDeadlineMs: number;
}

const DEFAULT_LIMITS: AlertRecorderLimits = { maxPending: 100, retryMs: 5000, stopDeadlineMs: 2000 };

/**
 * Stores the resource monitor's alerts (system_alerts) behind its back: `record` never waits and
 * never throws, writes go one at a time in the order the monitor saw them, and while Postgres is
 * unreachable they are held — at most `maxPending`, the oldest dropped first — and retried every
 * `retryMs`, with one log line when storing stops working and one when it works again. A dropped
 * transition heals itself: every write ends whatever alert of its resource is still open.
 */
export class AlertRecorder {
  private readonly pending: AlertTransition[] = [];
  private readonly limits: AlertRecorderLimits;
  private flushing: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private failing = false;
  private stopped = false;
  /** Transitions dropped because too many were held (each logged). */
  dropped = 0;

  constructor(
    private readonly store: AlertStore,
    readonly origin: AlertOrigin,
    private readonly logger: Logger,
    limits: Partial<AlertRecorderLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** How many transitions wait to be written. */
  get backlog(): number {
    return this.pending.length;
  }

  record(alert: ResourceAlert, at: Date = new Date()): void {
    if (this.stopped) return;
    if (this.pending.length >= this.limits.maxPending) {
      const lost = this.pending.shift();
      this.dropped++;
      this.logger.warn('resource alert dropped unstored: too many held while Postgres is unreachable', { resource: lost?.resource, level: lost?.level, held: this.limits.maxPending });
    }
    this.pending.push({ origin: this.origin, resource: alert.resource, level: alert.level, value: alert.value, threshold: alert.threshold, at });
    this.kick();
  }

  /** Ends the alerts earlier processes of this service on this replica left open (a crash never cleared them). */
  async start(): Promise<void> {
    try {
      const closed = await this.store.closeLeftBehind(this.origin);
      if (closed > 0) this.logger.info('resource alerts left open by an earlier process closed', { closed });
    } catch (error) {
      this.logger.warn('resource alerts left open by an earlier process could not be closed', { error: (error as Error).message });
    }
  }

  /** Writes what is held (within `stopDeadlineMs`), then ends this process's open alerts: nothing watches them any more. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    if (!(await this.drainUntil(Date.now() + this.limits.stopDeadlineMs))) {
      this.logger.warn('resource alerts left unstored at shutdown', { pending: this.pending.length });
      return;
    }
    try {
      await this.store.closeOpenOf(this.origin);
    } catch (error) {
      this.logger.warn('resource alerts of this process could not be closed at shutdown', { error: (error as Error).message });
    }
  }

  /** True once nothing is held; false when `until` passed first (a write still under way is left to finish on its own). */
  private async drainUntil(until: number): Promise<boolean> {
    while (this.pending.length > 0) {
      const left = until - Date.now();
      if (left <= 0) return false;
      this.kick();
      await within(this.flushing ?? Promise.resolve(), left);
      // A failed write is tried again shortly (stopping schedules no retries of its own).
      if (this.pending.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(200, until - Date.now()))));
    }
    return true;
  }

  private kick(): void {
    if (this.flushing || this.retry) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
    });
  }

  /** Writes the held transitions in order; on a failure keeps them and schedules a retry (unless stopping). */
  private async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const next = this.pending[0];
      try {
        await this.store.recordTransition(next);
      } catch (error) {
        if (!this.failing) {
          this.failing = true;
          this.logger.warn('resource alerts cannot be stored; held and retried', { error: (error as Error).message, pending: this.pending.length });
        }
        if (!this.stopped) {
          this.retry = setTimeout(() => {
            this.retry = undefined;
            this.kick();
          }, this.limits.retryMs);
          this.retry.unref();
        }
        return;
      }
      // A full backlog may have dropped it meanwhile: then the head is another, unwritten one.
      if (this.pending[0] === next) this.pending.shift();
      if (this.failing) {
        this.failing = false;
        this.logger.info('resource alerts are stored again', { pending: this.pending.length });
      }
    }
  }
}

/** Waits for `promise`, or `ms` at most. */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms))))]);
  clearTimeout(timer);
}
