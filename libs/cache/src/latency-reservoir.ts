import type { LatencySummary } from './types';

/** The last `capacity` latencies of one kind, tier and operation, in ms, for stats() percentiles. */
export class LatencyReservoir {
  private readonly samples: Float64Array;
  private count = 0;
  private next = 0;

  constructor(capacity = 2048) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.samples.length;
    if (this.count < this.samples.length) this.count++;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { samples: 0, p50: 0, p95: 0, p99: 0 };
    const sorted = this.samples.slice(0, this.count).sort();
    const at = (p: number) => round(sorted[Math.min(this.count - 1, Math.max(0, Math.ceil(p * this.count) - 1))]);
    return { samples: this.count, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10_000) / 10_000;
}

export class DeadlineExceeded extends Error {
  constructor(tier: string, ms: number) {
    super(`${tier} did not answer within ${ms} ms`);
  }
}

/** Settles with the promise, or rejects at the deadline (the promise's late result is ignored). */
export function withDeadline<T>(promise: Promise<T>, ms: number, tier: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded(tier, ms)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
