import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LatencyReservoir } from './latency-reservoir';
import type { MemoryAccount } from './memory-tier';
import type { CacheTierName, TierState } from './types';

export const OUTCOMES = ['hit', 'miss', 'error', 'skipped'] as const;
export type LookupOutcome = (typeof OUTCOMES)[number];
export const WRITE_OUTCOMES = ['ok', 'error', 'skipped'] as const;
export type WriteOutcome = (typeof WRITE_OUTCOMES)[number];

const LEVEL: Record<CacheTierName, string> = { memory: 'l1', redis: 'l2', postgres: 'l3' };

// From 10 µs (an L1 hit) to 1 s (a remote tier far past its deadline).
const BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

type Observer = { observe(seconds: number): void };

/** Per tier of one kind: plain numbers, read by the metrics' collect and by stats(). */
export class TierCounters {
  readonly lookups: Record<LookupOutcome, number> = { hit: 0, miss: 0, error: 0, skipped: 0 };
  readonly writes: Record<WriteOutcome, number> = { ok: 0, error: 0, skipped: 0 };
  /** memory evictions live in the MemoryAccount; this counts the others (postgres: expired rows deleted) */
  evictions = 0;
  readonly getLatency = new LatencyReservoir();
  readonly setLatency = new LatencyReservoir();

  constructor(
    readonly tier: CacheTierName,
    readonly getHistogram: Observer,
    readonly setHistogram: Observer,
  ) {}

  lookup(outcome: LookupOutcome, ms: number | undefined): void {
    this.lookups[outcome]++;
    if (ms !== undefined) {
      this.getLatency.add(ms);
      this.getHistogram.observe(ms / 1000);
    }
  }

  write(outcome: WriteOutcome, ms: number | undefined): void {
    this.writes[outcome]++;
    if (ms !== undefined) {
      this.setLatency.add(ms);
      this.setHistogram.observe(ms / 1000);
    }
  }
}

export class KindCounters {
  readonly tiers = new Map<CacheTierName, TierCounters>();
  readonly memory: MemoryAccount = { entries: 0, bytes: 0, evictions: 0 };
  stampedeWaits = 0;
  computes = 0;
  /** hit-rate warning window */
  windowRequests = 0;
  windowHits = 0;

  constructor(
    readonly kind: string,
    tiers: CacheTierName[],
    metrics: CacheMetrics,
  ) {
    for (const tier of tiers) this.tiers.set(tier, metrics.tierCounters(kind, tier));
  }

  evictions(tier: CacheTierName): number {
    return tier === 'memory' ? this.memory.evictions : (this.tiers.get(tier)?.evictions ?? 0);
  }
}

/** What one TieredCache shows to the registry's metrics. */
export interface MetricsSource {
  kinds(): Iterable<KindCounters>;
  tierStates(): Iterable<[CacheTierName, TierState]>;
}

const byRegistry = new WeakMap<Registry, CacheMetrics>();

/**
 * The cache's series in one registry, shared by every TieredCache on it. Counters are plain
 * numbers on the hot path, turned into prom-client series at scrape time (`collect`): an L1 hit
 * then costs one histogram observation, not three label look-ups. A closed cache's counts are kept
 * (`retired`), so counters never go down.
 */
export class CacheMetrics {
  private readonly sources = new Set<MetricsSource>();
  private readonly retired = new Map<string, number>();
  private readonly zeroed = new Set<string>();
  private readonly duration: Histogram<'kind' | 'tier' | 'operation'>;

  static for(registry: Registry): CacheMetrics {
    let metrics = byRegistry.get(registry);
    if (!metrics) {
      metrics = new CacheMetrics(registry);
      byRegistry.set(registry, metrics);
    }
    return metrics;
  }

  private constructor(registry: Registry) {
    const registers = [registry];
    this.duration = new Histogram({
      name: 'quarry_cache_operation_duration_seconds',
      help: 'Duration of one cache get or set at one tier (sub-millisecond buckets).',
      labelNames: ['kind', 'tier', 'operation'] as const,
      buckets: BUCKETS,
      registers,
    });
    const requests: Counter<'kind' | 'tier' | 'outcome'> = new Counter({
      name: 'quarry_cache_requests_total',
      help: 'Cache lookups per kind and tier: hit, miss, error (failed or past its deadline) or skipped (tier down). A lookup reaches a tier only when the tiers above missed.',
      labelNames: ['kind', 'tier', 'outcome'] as const,
      registers,
      collect: () => this.fill(requests, 'requests', (_kind, tier, emit) => OUTCOMES.forEach((outcome) => emit({ outcome }, tier.lookups[outcome]))),
    });
    const writes: Counter<'kind' | 'tier' | 'outcome'> = new Counter({
      name: 'quarry_cache_writes_total',
      help: 'Cache writes (set, promotion, warm) per kind and tier: ok, error or skipped (tier down).',
      labelNames: ['kind', 'tier', 'outcome'] as const,
      registers,
      collect: () => this.fill(writes, 'writes', (_kind, tier, emit) => WRITE_OUTCOMES.forEach((outcome) => emit({ outcome }, tier.writes[outcome]))),
    });
    const evictions: Counter<'kind' | 'tier'> = new Counter({
      name: 'quarry_cache_evictions_total',
      help: 'Entries the cache removed itself: memory, to stay within its bytes and entries; postgres, expired rows deleted (lazily or by purgeExpired). Redis expires keys on its own and is not counted.',
      labelNames: ['kind', 'tier'] as const,
      registers,
      collect: () => this.fill(evictions, 'evictions', (kind, tier, emit) => emit({}, kind.evictions(tier.tier))),
    });
    const stampede: Counter<'kind'> = new Counter({
      name: 'quarry_cache_stampede_waits_total',
      help: 'getOrCompute calls that waited for a computation under way (in this process, or behind another replica’s Redis lock) instead of computing.',
      labelNames: ['kind'] as const,
      registers,
      collect: () => {
        const totals = this.totals('stampede', (kind, add) => add(kind.kind, kind.stampedeWaits));
        stampede.reset();
        for (const [kind, value] of totals) stampede.inc({ kind }, value);
      },
    });
    const hits: Counter<'cache_level'> = new Counter({
      name: 'rag_cache_hits_total',
      help: 'Cache hits by level (l1 memory, l2 redis, l3 postgres), every kind together.',
      labelNames: ['cache_level'] as const,
      registers,
      collect: () => this.fillLevels(hits, 'hits', (tier) => tier.lookups.hit),
    });
    const misses: Counter<'cache_level'> = new Counter({
      name: 'rag_cache_misses_total',
      help: 'Cache lookups a level did not answer (miss, error or skipped), every kind together.',
      labelNames: ['cache_level'] as const,
      registers,
      collect: () => this.fillLevels(misses, 'misses', (tier) => tier.lookups.miss + tier.lookups.error + tier.lookups.skipped),
    });
    const entries: Gauge<'kind' | 'tier'> = new Gauge({
      name: 'quarry_cache_entries',
      help: 'Entries held in process memory (L1), per kind.',
      labelNames: ['kind', 'tier'] as const,
      registers,
      collect: () => this.fillMemory(entries, (account) => account.entries),
    });
    const bytes: Gauge<'kind' | 'tier'> = new Gauge({
      name: 'quarry_cache_bytes',
      help: 'Bytes (as counted by the kind’s sizeOf) held in process memory (L1), per kind.',
      labelNames: ['kind', 'tier'] as const,
      registers,
      collect: () => this.fillMemory(bytes, (account) => account.bytes),
    });
    const up: Gauge<'tier'> = new Gauge({
      name: 'quarry_cache_tier_up',
      help: 'Whether a cache tier is used (1: up or degraded) or skipped by its circuit breaker (0: down).',
      labelNames: ['tier'] as const,
      registers,
      collect: () => {
        up.reset();
        const states = new Map<CacheTierName, number>();
        for (const source of this.sources) {
          for (const [tier, state] of source.tierStates()) states.set(tier, Math.min(states.get(tier) ?? 1, state === 'down' ? 0 : 1));
        }
        for (const [tier, value] of states) up.set({ tier }, value);
      },
    });
  }

  register(source: MetricsSource): void {
    this.sources.add(source);
  }

  /** Keeps a closing cache's counts, so the registry's counters never decrease. */
  unregister(source: MetricsSource): void {
    if (!this.sources.delete(source)) return;
    for (const kind of source.kinds()) {
      for (const tier of kind.tiers.values()) {
        OUTCOMES.forEach((outcome) => this.retire(`requests|${kind.kind}|${tier.tier}|${outcome}`, tier.lookups[outcome]));
        WRITE_OUTCOMES.forEach((outcome) => this.retire(`writes|${kind.kind}|${tier.tier}|${outcome}`, tier.writes[outcome]));
        this.retire(`evictions|${kind.kind}|${tier.tier}|`, kind.evictions(tier.tier));
        this.retire(`hits|${LEVEL[tier.tier]}`, tier.lookups.hit);
        this.retire(`misses|${LEVEL[tier.tier]}`, tier.lookups.miss + tier.lookups.error + tier.lookups.skipped);
      }
      this.retire(`stampede|${kind.kind}`, kind.stampedeWaits);
    }
  }

  tierCounters(kind: string, tier: CacheTierName): TierCounters {
    // zero() resets a series: only for one this registry has not seen (another cache may share it).
    if (!this.zeroed.has(`${kind}|${tier}`)) {
      this.zeroed.add(`${kind}|${tier}`);
      this.duration.zero({ kind, tier, operation: 'get' });
      this.duration.zero({ kind, tier, operation: 'set' });
    }
    return new TierCounters(tier, this.duration.labels({ kind, tier, operation: 'get' }), this.duration.labels({ kind, tier, operation: 'set' }));
  }

  private retire(series: string, value: number): void {
    this.retired.set(series, (this.retired.get(series) ?? 0) + value);
  }

  private totals(family: string, each: (kind: KindCounters, add: (series: string, value: number) => void) => void): Map<string, number> {
    const totals = new Map<string, number>();
    for (const [series, value] of this.retired) if (series.startsWith(`${family}|`)) totals.set(series.slice(family.length + 1), value);
    const add = (series: string, value: number) => totals.set(series, (totals.get(series) ?? 0) + value);
    for (const source of this.sources) for (const kind of source.kinds()) each(kind, add);
    return totals;
  }

  private fill<L extends string>(
    counter: Counter<L>,
    family: string,
    each: (kind: KindCounters, tier: TierCounters, emit: (labels: Record<string, string>, value: number) => void) => void,
  ): void {
    const totals = this.totals(family, (kind, add) => {
      for (const tier of kind.tiers.values()) {
        each(kind, tier, (labels, value) => add(`${kind.kind}|${tier.tier}|${labels.outcome ?? ''}`, value));
      }
    });
    counter.reset();
    for (const [series, value] of totals) {
      const [kind, tier, outcome] = series.split('|');
      counter.inc((outcome ? { kind, tier, outcome } : { kind, tier }) as unknown as Partial<Record<L, string>>, value);
    }
  }

  private fillLevels(counter: Counter<'cache_level'>, family: string, value: (tier: TierCounters) => number): void {
    const totals = this.totals(family, (kind, add) => {
      for (const tier of kind.tiers.values()) add(LEVEL[tier.tier], value(tier));
    });
    counter.reset();
    for (const level of ['l1', 'l2', 'l3']) counter.inc({ cache_level: level }, totals.get(level) ?? 0);
  }

  private fillMemory(gauge: Gauge<'kind' | 'tier'>, value: (account: MemoryAccount) => number): void {
    gauge.reset();
    const totals = new Map<string, number>();
    for (const source of this.sources) {
      for (const kind of source.kinds()) {
        if (kind.tiers.has('memory')) totals.set(kind.kind, (totals.get(kind.kind) ?? 0) + value(kind.memory));
      }
    }
    for (const [kind, total] of totals) gauge.set({ kind, tier: 'memory' }, total);
  }
}
