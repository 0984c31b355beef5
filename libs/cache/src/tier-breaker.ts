import type { RemoteTierName, TierState } from './types';

export interface BreakerSettings {
  /** consecutive failures that open the breaker (the tier is down) */
  failures: number;
  /** first backoff while down; doubles after each failed probe */
  openMs: number;
  maxOpenMs: number;
  /** a tier that failed stays `degraded` until it has gone this long without a failure */
  degradedForMs: number;
}

export const DEFAULT_BREAKER: BreakerSettings = { failures: 3, openMs: 1000, maxOpenMs: 15_000, degradedForMs: 10_000 };

/**
 * The circuit breaker of one remote tier (shared by every kind). up → degraded on a failure →
 * down after `failures` in a row: not tried for a backoff period, then one call is let through as
 * a probe; its success brings the tier up, its failure doubles the backoff. `forceDown`/`forceUp`
 * follow the Redis connection's own events.
 */
export class TierBreaker {
  private state: TierState = 'up';
  private consecutiveFailures = 0;
  private openUntil = 0;
  private backoffMs: number;
  private probing = false;
  private lastFailureAt = 0;
  private lastError: string | undefined;
  private since = new Date();

  constructor(
    readonly tier: RemoteTierName,
    private readonly settings: BreakerSettings,
    private readonly onChange: (tier: RemoteTierName, from: TierState, to: TierState, error: string | undefined) => void,
  ) {
    this.backoffMs = settings.openMs;
  }

  /** Whether a call may go to the tier now (false: skip it). While down, lets exactly one probe through after the backoff. */
  allow(): boolean {
    if (this.state !== 'down') return true;
    if (this.probing || Date.now() < this.openUntil) return false;
    this.probing = true;
    return true;
  }

  succeeded(): void {
    this.consecutiveFailures = 0;
    if (this.state === 'down') {
      this.probing = false;
      this.backoffMs = this.settings.openMs;
      this.transition('up');
    } else if (this.state === 'degraded' && Date.now() - this.lastFailureAt >= this.settings.degradedForMs) {
      this.transition('up');
    }
  }

  failed(error: unknown): void {
    this.lastError = describe(error);
    this.lastFailureAt = Date.now();
    this.consecutiveFailures++;
    if (this.state === 'down') {
      // A failed probe (or a late failure of a call started before the breaker opened).
      if (this.probing) {
        this.probing = false;
        this.backoffMs = Math.min(this.backoffMs * 2, this.settings.maxOpenMs);
        this.openUntil = Date.now() + this.backoffMs;
      }
      return;
    }
    if (this.consecutiveFailures >= this.settings.failures) this.open();
    else this.transition('degraded');
  }

  /** The connection is gone (Redis `close`): down until it is ready again or a probe succeeds. */
  forceDown(reason: string): void {
    this.lastError = reason;
    this.lastFailureAt = Date.now();
    if (this.state !== 'down') this.open();
  }

  /** Down from the start, quietly (Redis before its first connection is ready). */
  startDown(reason: string): void {
    this.state = 'down';
    this.lastError = reason;
    this.openUntil = Number.POSITIVE_INFINITY;
  }

  /** The connection is ready again: use the tier at once. */
  forceUp(): void {
    this.consecutiveFailures = 0;
    this.probing = false;
    this.backoffMs = this.settings.openMs;
    this.transition('up');
  }

  health(): { state: TierState; lastError?: string; since: string } {
    if (this.state === 'degraded' && Date.now() - this.lastFailureAt >= this.settings.degradedForMs) this.transition('up');
    return { state: this.state, ...(this.lastError === undefined ? {} : { lastError: this.lastError }), since: this.since.toISOString() };
  }

  get current(): TierState {
    return this.state;
  }

  private open(): void {
    this.probing = false;
    this.openUntil = Date.now() + this.backoffMs;
    this.transition('down');
  }

  private transition(to: TierState): void {
    if (to === this.state) return;
    const from = this.state;
    this.state = to;
    this.since = new Date();
    this.onChange(this.tier, from, to, this.lastError);
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
