import type { Logger } from '@quarry/observability';
import { Gauge, type Registry } from 'prom-client';
import type { PressureLevel } from './resource-monitor';

/** Where the concurrency goes: the queue workers of this process. */
export interface ConcurrencyTarget {
  setConcurrency(concurrency: number): void;
}

/** Samples in a row without pressure before one more slot is given back. */
const CALM_SAMPLES_TO_RAISE = 2;

/**
 * Follows the process's pressure within [min, max]: critical halves the workers' concurrency,
 * warning takes one slot away, and every CALM_SAMPLES_TO_RAISE calm samples give one back — so a
 * loaded worker takes less work at once and recovers its pace when the load passes.
 */
export class AdaptiveConcurrency {
  private current: number;
  private calm = 0;
  private readonly gauge: Gauge;

  constructor(
    private readonly target: ConcurrencyTarget,
    private readonly bounds: { min: number; max: number },
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.current = bounds.max;
    this.gauge = new Gauge({ name: 'quarry_worker_concurrency', help: 'Jobs this process takes at once per queue (lowered under resource pressure).', registers: [registry] });
    this.gauge.set(this.current);
  }

  get concurrency(): number {
    return this.current;
  }

  follow(pressure: PressureLevel): number {
    let next = this.current;
    if (pressure === 'critical') next = Math.max(this.bounds.min, Math.floor(this.current / 2));
    else if (pressure === 'warning') next = Math.max(this.bounds.min, this.current - 1);
    if (pressure === 'ok') {
      this.calm++;
      if (this.calm >= CALM_SAMPLES_TO_RAISE) {
        this.calm = 0;
        next = Math.min(this.bounds.max, this.current + 1);
      }
    } else {
      this.calm = 0;
    }
    if (next !== this.current) {
      this.logger.info(next < this.current ? 'worker concurrency lowered under resource pressure' : 'worker concurrency raised: the pressure passed', { from: this.current, to: next, pressure });
      this.current = next;
      this.target.setConcurrency(next);
      this.gauge.set(next);
    }
    return this.current;
  }
}
