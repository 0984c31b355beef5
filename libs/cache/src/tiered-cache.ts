import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CacheMetrics, KindCounters, type MetricsSource, type TierCounters } from './cache-metrics';
import { withDeadline } from './latency-reservoir';
import { MemoryTier } from './memory-tier';
import { PostgresTier } from './postgres-tier';
import { RedisTier, decodeFromRedis, encodeForRedis } from './redis-tier';
import { DEFAULT_BREAKER, TierBreaker, describe } from './tier-breaker';
import type {
  CacheHandle,
  CacheKindOptions,
  CacheKindStats,
  CacheStatsReport,
  CacheTierName,
  CacheTierStats,
  RemoteTierName,
  TierHealth,
  TierState,
  TieredCacheOptions,
} from './types';

const TIER_ORDER: CacheTierName[] = ['memory', 'redis', 'postgres'];
const DEFAULT_TIMEOUTS: Record<RemoteTierName, number> = { redis: 50, postgres: 100 };
const DEFAULT_HIT_RATE_WARNING = { threshold: 0.6, minRequests: 100, everyMs: 300_000 };
const DEFAULT_LOCK = { ttlMs: 5000, waitMs: 2000, pollMs: 20 };
/** A warm batch or a stats query may take longer than one get; it still has a deadline. */
const BULK_TIMEOUT_MS = 2000;
const WARM_BATCH = 500;
const KIND_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/i;

type RemoteResult<T> = { ok: true; value: T; ms: number } | { ok: false; outcome: 'error' | 'skipped'; ms: number | undefined };

/**
 * A typed three-tier cache: L1 in process memory (an LRU bounded by bytes), L2 Redis (shared by
 * replicas), L3 Postgres (survives restarts). Each kind picks its tiers and TTLs. Reads go down
 * the tiers and fill the ones above on a hit; writes go to every tier. A remote tier that fails
 * or misses its deadline is skipped for that call, and after a few failures in a row not tried
 * for a while (circuit breaker): a cache problem never fails a caller, it only costs hits.
 */
export class TieredCache implements MetricsSource {
  private readonly memory: MemoryTier;
  private readonly redis: RedisTier | undefined;
  private readonly postgres: PostgresTier | undefined;
  private readonly breakers = new Map<RemoteTierName, TierBreaker>();
  private readonly handles = new Map<string, KindHandle<unknown>>();
  private readonly metrics: CacheMetrics;
  private readonly timeouts: Record<RemoteTierName, number>;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly lowHitRateListeners: Array<(low: { kind: string; hitRate: number; requests: number }) => void> = [];
  private closed = false;

  constructor(private readonly options: TieredCacheOptions) {
    this.memory = new MemoryTier(options.memoryMaxBytes, options.memoryMaxEntries ?? 100_000);
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.tierTimeoutMs };
    const breaker = { ...DEFAULT_BREAKER, ...stripUndefined(options.breaker) };
    const onChange = (tier: RemoteTierName, from: TierState, to: TierState, error: string | undefined) => {
      const meta = { service: options.service, tier, from, to, ...(error === undefined ? {} : { error }) };
      if (to === 'up') options.logger.info(`cache tier ${tier} is up`, meta);
      else options.logger.warn(`cache tier ${tier} is ${to}`, meta);
    };
    if (options.redis) {
      const redisBreaker = new TierBreaker('redis', breaker, onChange);
      this.breakers.set('redis', redisBreaker);
      // Down until the first connection is ready.
      redisBreaker.startDown('connecting to Redis');
      this.redis = new RedisTier(options.redis.url, options.redis.prefix, {
        ready: () => redisBreaker.forceUp(),
        closed: (reason) => redisBreaker.forceDown(reason),
        drop: (kind, key) => this.memory.delete(kind, key),
        resubscribed: () => this.afterResubscribe(),
      });
    }
    if (options.dataSource) {
      this.breakers.set('postgres', new TierBreaker('postgres', breaker, onChange));
      this.postgres = new PostgresTier(options.dataSource);
    }
    this.metrics = CacheMetrics.for(options.registry);
    this.metrics.register(this);
    const warning = options.hitRateWarning ?? DEFAULT_HIT_RATE_WARNING;
    this.timers.push(setInterval(() => this.checkHitRates(warning), warning.everyMs).unref());
    // Expired L1 entries are dropped when read; this keeps the entries/bytes figures honest meanwhile.
    this.timers.push(setInterval(() => this.memory.purgeStale(), 30_000).unref());
  }

  /** Called whenever a kind's hit rate over a warning window stays under the threshold (after the warning is logged). */
  onLowHitRate(listener: (low: { kind: string; hitRate: number; requests: number }) => void): void {
    this.lowHitRateListeners.push(listener);
  }

  /** Resolves once Redis is connected and subscribed (true), or at the timeout (false); never rejects. */
  async ready(timeoutMs = 5000): Promise<boolean> {
    return this.redis ? this.redis.ready(timeoutMs) : true;
  }

  kind<V>(kindOptions: CacheKindOptions<V>): CacheHandle<V> {
    if (this.closed) throw new Error('the cache is closed');
    if (!KIND_NAME.test(kindOptions.name)) throw new Error(`cache kind name ${JSON.stringify(kindOptions.name)} must match ${KIND_NAME}`);
    if (this.handles.has(kindOptions.name)) throw new Error(`cache kind ${kindOptions.name} is defined already`);
    const unknownTier = kindOptions.tiers.find((tier) => !TIER_ORDER.includes(tier));
    if (unknownTier) throw new Error(`cache kind ${kindOptions.name}: unknown tier ${unknownTier}`);
    const available = (tier: CacheTierName) => tier === 'memory' || (tier === 'redis' ? !!this.redis : !!this.postgres);
    const tiers = TIER_ORDER.filter((tier) => kindOptions.tiers.includes(tier) && available(tier));
    for (const tier of tiers) {
      const ttl = kindOptions.ttlMs[tier];
      if (tier !== 'memory' && ttl === undefined) throw new Error(`cache kind ${kindOptions.name}: ttlMs.${tier} is required`);
      if (ttl !== undefined && !(ttl > 0)) throw new Error(`cache kind ${kindOptions.name}: ttlMs.${tier} must be positive`);
    }
    const missing = kindOptions.tiers.filter((tier) => !tiers.includes(tier));
    if (missing.length > 0) {
      this.options.logger.info(`cache kind ${kindOptions.name} runs without ${missing.join(', ')} (not configured)`, { service: this.options.service, kind: kindOptions.name });
    }
    const counters = new KindCounters(kindOptions.name, tiers, this.metrics);
    const handle = new KindHandle<V>(this, kindOptions, tiers, counters);
    this.handles.set(kindOptions.name, handle as KindHandle<unknown>);
    return handle;
  }

  /** per tier: up/degraded/down, last error, since; for /health/ready details */
  health(): TierHealth[] {
    const report: TierHealth[] = [{ tier: 'memory', state: 'up' }];
    for (const [tier, breaker] of this.breakers) report.push({ tier, ...breaker.health() });
    return report;
  }

  /** per kind and tier: hits, misses, hitRate, latency p50/p95/p99 (ms), entries, bytes, evictions; plus totals that add up */
  async stats(): Promise<CacheStatsReport> {
    this.memory.purgeStale();
    let usage: Map<string, { entries: number; bytes: number }> | undefined;
    // One aggregate over the live rows; a slow one is left out of the report, not held against the tier.
    if (this.postgres && this.breakers.get('postgres')?.current !== 'down') {
      usage = await withDeadline(this.postgres.usage(), BULK_TIMEOUT_MS, 'postgres').catch(() => undefined);
    }
    const kinds: CacheKindStats[] = [];
    const hitsByTier: Record<CacheTierName, number> = { memory: 0, redis: 0, postgres: 0 };
    for (const handle of this.handles.values()) {
      const counters = handle.counters;
      const tiers: CacheTierStats[] = [];
      for (const tier of counters.tiers.values()) {
        const lookups = tier.lookups;
        const requests = lookups.hit + lookups.miss + lookups.error + lookups.skipped;
        const held =
          tier.tier === 'memory'
            ? { entries: counters.memory.entries, bytes: counters.memory.bytes }
            : tier.tier === 'postgres' && usage
              ? (usage.get(counters.kind) ?? { entries: 0, bytes: 0 })
              : {};
        tiers.push({
          tier: tier.tier,
          requests,
          hits: lookups.hit,
          misses: lookups.miss,
          errors: lookups.error,
          skipped: lookups.skipped,
          hitRate: ratio(lookups.hit, requests),
          latencyMs: { get: tier.getLatency.summary(), set: tier.setLatency.summary() },
          ...held,
          evictions: counters.evictions(tier.tier),
          writes: { ...tier.writes },
        });
        hitsByTier[tier.tier] += lookups.hit;
      }
      const first = tiers[0];
      const last = tiers[tiers.length - 1];
      const hits = tiers.reduce((sum, tier) => sum + tier.hits, 0);
      const requests = first ? first.requests : 0;
      const misses = last ? last.misses + last.errors + last.skipped : 0;
      kinds.push({ kind: counters.kind, tiers, requests, hits, misses, hitRate: ratio(hits, requests), computes: counters.computes, stampedeWaits: counters.stampedeWaits });
    }
    const requests = kinds.reduce((sum, kind) => sum + kind.requests, 0);
    const hits = kinds.reduce((sum, kind) => sum + kind.hits, 0);
    const misses = kinds.reduce((sum, kind) => sum + kind.misses, 0);
    return { service: this.options.service, kinds, totals: { requests, hits, misses, hitRate: ratio(hits, requests), hitsByTier }, health: this.health() };
  }

  /**
   * Deletes expired L3 rows, `batch` at a time (each batch its own statement, so no long lock),
   * until none are left or `limit` are gone; how many were deleted. For the scheduler; throws if
   * Postgres fails (the job should be seen failing).
   */
  async purgeExpired(limit = 100_000, batch = 1000): Promise<number> {
    if (!this.postgres) return 0;
    let deleted = 0;
    while (deleted < limit) {
      const size = Math.min(batch, limit - deleted);
      const kinds = await this.postgres.purgeBatch(size);
      for (const kind of kinds) {
        const tier = this.handles.get(kind)?.counters.tiers.get('postgres');
        if (tier) tier.evictions++;
      }
      deleted += kinds.length;
      if (kinds.length < size) break;
    }
    return deleted;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.race([Promise.allSettled([...this.pending]), sleep(1000)]);
    await this.redis?.close();
    this.metrics.unregister(this);
  }

  // ---- internals, used by KindHandle ----

  /** MetricsSource */
  kinds(): Iterable<KindCounters> {
    return [...this.handles.values()].map((handle) => handle.counters);
  }

  /** MetricsSource */
  tierStates(): Iterable<[CacheTierName, TierState]> {
    return this.health().map((entry) => [entry.tier, entry.state] as [CacheTierName, TierState]);
  }

  get memoryTier(): MemoryTier {
    return this.memory;
  }

  get redisTier(): RedisTier | undefined {
    return this.redis;
  }

  get postgresTier(): PostgresTier | undefined {
    return this.postgres;
  }

  get logger(): TieredCacheOptions['logger'] {
    return this.options.logger;
  }

  get service(): string {
    return this.options.service;
  }

  /**
   * Runs one operation on a remote tier: skipped while its breaker is open (or Redis is not
   * connected), failed at its deadline; the breaker learns the outcome. Never throws.
   */
  async remote<T>(tier: RemoteTierName, operation: () => Promise<T>, timeoutMs = this.timeouts[tier]): Promise<RemoteResult<T>> {
    const breaker = this.breakers.get(tier);
    if (!breaker || (tier === 'redis' && !this.redis?.connected) || !breaker.allow()) return { ok: false, outcome: 'skipped', ms: undefined };
    const started = performance.now();
    try {
      const value = await withDeadline(operation(), timeoutMs, tier);
      breaker.succeeded();
      return { ok: true, value, ms: performance.now() - started };
    } catch (error) {
      breaker.failed(error);
      return { ok: false, outcome: 'error', ms: performance.now() - started };
    }
  }

  /** Work that the caller does not wait for (promotions, lazy deletes); close() waits for it briefly. */
  background(work: Promise<unknown>): void {
    const tracked = work.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private afterResubscribe(): void {
    for (const handle of this.handles.values()) {
      if (!handle.options.dropL1OnResubscribe) continue;
      const dropped = this.memory.clearKind(handle.name);
      this.options.logger.info('cache drop subscription is back: cleared the kind from memory, as drops may have been missed', {
        service: this.options.service,
        kind: handle.name,
        dropped,
      });
    }
  }

  private checkHitRates(warning: { threshold: number; minRequests: number; everyMs: number }): void {
    for (const handle of this.handles.values()) {
      const counters = handle.counters;
      const { windowRequests: requests, windowHits: hits } = counters;
      counters.windowRequests = 0;
      counters.windowHits = 0;
      if (requests >= warning.minRequests && hits / requests < warning.threshold) {
        this.options.logger.warn('cache hit rate below threshold', {
          service: this.options.service,
          kind: counters.kind,
          hitRate: Math.round((hits / requests) * 1000) / 1000,
          requests,
          threshold: warning.threshold,
          windowMs: warning.everyMs,
        });
        for (const listener of this.lowHitRateListeners) listener({ kind: counters.kind, hitRate: hits / requests, requests });
      }
    }
  }
}

/** One kind's view of the cache: what `TieredCache.kind` returns. */
class KindHandle<V> implements CacheHandle<V> {
  readonly name: string;
  private readonly inFlight = new Map<string, Promise<V>>();
  private readonly hasMemory: boolean;
  private readonly remoteTiers: RemoteTierName[];
  private readonly memoryCounters: TierCounters | undefined;
  private readonly lock: { ttlMs: number; waitMs: number; pollMs: number };

  constructor(
    private readonly cache: TieredCache,
    readonly options: CacheKindOptions<V>,
    tiers: CacheTierName[],
    readonly counters: KindCounters,
  ) {
    this.name = options.name;
    this.hasMemory = tiers.includes('memory');
    this.remoteTiers = tiers.filter((tier): tier is RemoteTierName => tier !== 'memory');
    this.memoryCounters = counters.tiers.get('memory');
    this.lock = { ...DEFAULT_LOCK, ...stripUndefined(options.lock) };
  }

  async get(key: string): Promise<V | undefined> {
    const hit = this.getFromMemory(key);
    if (hit !== undefined) return hit;
    return this.getBelowMemory(key);
  }

  async set(key: string, value: V): Promise<void> {
    if (value === undefined) return;
    const json = this.needsJson() ? JSON.stringify(value) : undefined;
    if (this.hasMemory) this.setInMemory(key, value, json, undefined);
    await Promise.all(this.remoteTiers.map((tier) => this.writeRemote(tier, key, value, json, undefined)));
  }

  async getOrCompute(key: string, compute: () => Promise<V>): Promise<V> {
    const running = this.inFlight.get(key);
    if (running) {
      this.counters.stampedeWaits++;
      return running;
    }
    const hit = this.getFromMemory(key);
    if (hit !== undefined) return hit;
    const work = this.loadOrCompute(key, compute).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, work);
    return work;
  }

  async delete(key: string): Promise<void> {
    this.cache.memoryTier.delete(this.name, key);
    const redis = this.cache.redisTier;
    const postgres = this.cache.postgresTier;
    const work: Array<Promise<unknown>> = [];
    if (redis) {
      if (this.remoteTiers.includes('redis')) work.push(this.cache.remote('redis', () => redis.delete(this.name, key)));
      // Every replica drops it from its L1, whether or not this kind keeps values in Redis.
      work.push(this.cache.remote('redis', () => redis.publishDrop(this.name, key)));
    }
    if (postgres && this.remoteTiers.includes('postgres')) work.push(this.cache.remote('postgres', () => postgres.delete(this.name, key)));
    await Promise.all(work);
  }

  async warm(entries: Array<{ key: string; value: V }>): Promise<number> {
    const distinct = new Map<string, V>();
    for (const entry of entries) if (entry.value !== undefined) distinct.set(entry.key, entry.value);
    if (distinct.size === 0) return 0;
    const list = [...distinct].map(([key, value]) => ({ key, value, json: this.needsJson() ? JSON.stringify(value) : undefined }));
    let written = list.length;
    if (this.hasMemory) for (const entry of list) this.setInMemory(entry.key, entry.value, entry.json, undefined);
    const redis = this.cache.redisTier;
    const postgres = this.cache.postgresTier;
    for (const tier of this.remoteTiers) {
      const counters = this.counters.tiers.get(tier);
      let accepted = 0;
      for (let start = 0; start < list.length; start += WARM_BATCH) {
        const batch = list.slice(start, start + WARM_BATCH);
        const result =
          tier === 'redis' && redis
            ? await this.cache.remote(
                'redis',
                () => redis.setMany(this.name, batch.map((entry) => ({ key: entry.key, value: encodeForRedis(entry.value) })), this.ttl('redis')),
                BULK_TIMEOUT_MS,
              )
            : tier === 'postgres' && postgres
              ? await this.cache.remote(
                  'postgres',
                  () => postgres.setMany(this.name, batch.map((entry) => ({ key: entry.key, value: Buffer.from(entry.json ?? JSON.stringify(entry.value)) })), this.ttl('postgres')),
                  BULK_TIMEOUT_MS,
                )
              : ({ ok: false, outcome: 'skipped', ms: undefined } as const);
        if (result.ok) {
          accepted += result.value;
          for (let index = 0; index < result.value; index++) counters?.write('ok', undefined);
          for (let index = result.value; index < batch.length; index++) counters?.write('error', undefined);
        } else {
          for (let index = 0; index < batch.length; index++) counters?.write(result.outcome, undefined);
        }
      }
      written = Math.min(written, accepted);
    }
    return written;
  }

  // ---- reads ----

  private getFromMemory(key: string): V | undefined {
    if (!this.hasMemory) return undefined;
    const started = performance.now();
    const value = this.cache.memoryTier.get(this.name, key) as V | undefined;
    const ms = performance.now() - started;
    this.memoryCounters?.lookup(value === undefined ? 'miss' : 'hit', ms);
    if (value !== undefined) {
      this.counters.windowRequests++;
      this.counters.windowHits++;
    } else if (this.remoteTiers.length === 0) {
      this.counters.windowRequests++;
    }
    return value;
  }

  private async getBelowMemory(key: string): Promise<V | undefined> {
    for (let index = 0; index < this.remoteTiers.length; index++) {
      const tier = this.remoteTiers[index];
      const found = tier === 'redis' ? await this.getFromRedis(key) : await this.getFromPostgres(key);
      if (found) {
        this.counters.windowRequests++;
        this.counters.windowHits++;
        this.promote(key, found.value, tier, found.remainingMs, found.json);
        return found.value;
      }
    }
    if (this.remoteTiers.length > 0) this.counters.windowRequests++;
    return undefined;
  }

  private async getFromRedis(key: string): Promise<{ value: V; remainingMs: undefined; json: undefined } | undefined> {
    const redis = this.cache.redisTier;
    const counters = this.counters.tiers.get('redis');
    if (!redis || !counters) return undefined;
    const result = await this.cache.remote('redis', () => redis.get(this.name, key));
    if (!result.ok) {
      counters.lookup(result.outcome, result.ms);
      return undefined;
    }
    if (result.value === null) {
      counters.lookup('miss', result.ms);
      return undefined;
    }
    const value = this.decode('redis', key, () => decodeFromRedis(result.value as Buffer));
    counters.lookup(value === undefined ? 'miss' : 'hit', result.ms);
    if (value === undefined) {
      this.cache.background(this.cache.remote('redis', () => redis.delete(this.name, key)));
      return undefined;
    }
    return { value, remainingMs: undefined, json: undefined };
  }

  private async getFromPostgres(key: string): Promise<{ value: V; remainingMs: number; json: string } | undefined> {
    const postgres = this.cache.postgresTier;
    const counters = this.counters.tiers.get('postgres');
    if (!postgres || !counters) return undefined;
    const result = await this.cache.remote('postgres', () => postgres.get(this.name, key));
    if (!result.ok) {
      counters.lookup(result.outcome, result.ms);
      return undefined;
    }
    const row = result.value;
    if (row === undefined || row === 'expired') {
      counters.lookup('miss', result.ms);
      if (row === 'expired') {
        this.cache.background(
          this.cache.remote('postgres', () => postgres.deleteIfExpired(this.name, key)).then((deleted) => {
            if (deleted.ok) counters.evictions += deleted.value;
          }),
        );
      }
      return undefined;
    }
    const json = row.value.toString('utf8');
    const value = this.decode('postgres', key, () => JSON.parse(json) as unknown);
    counters.lookup(value === undefined ? 'miss' : 'hit', result.ms);
    if (value === undefined) {
      this.cache.background(this.cache.remote('postgres', () => postgres.delete(this.name, key)));
      return undefined;
    }
    return { value, remainingMs: row.remainingMs, json };
  }

  /** Decodes and validates a value read back from L2/L3; undefined when it does not pass (a miss, deleted by the caller). */
  private decode(tier: RemoteTierName, key: string, decode: () => unknown): V | undefined {
    try {
      const raw = decode();
      const value = this.options.parse ? this.options.parse(raw) : (raw as V);
      return value === undefined ? undefined : value;
    } catch (error) {
      this.cache.logger.warn('cache value failed validation: treated as a miss and deleted', {
        service: this.cache.service,
        kind: this.name,
        tier,
        key,
        error: describe(error).slice(0, 300),
      });
      return undefined;
    }
  }

  /** Fills the tiers above the one that answered; an L3 row's remaining lifetime caps the TTLs above it. */
  private promote(key: string, value: V, from: RemoteTierName, remainingMs: number | undefined, json: string | undefined): void {
    if (this.hasMemory) this.setInMemory(key, value, json, remainingMs);
    if (from === 'postgres' && this.remoteTiers.includes('redis')) this.cache.background(this.writeRemote('redis', key, value, json, remainingMs));
  }

  // ---- writes ----

  private needsJson(): boolean {
    return this.remoteTiers.includes('postgres') || (this.hasMemory && !this.options.sizeOf);
  }

  private ttl(tier: CacheTierName, capMs?: number): number {
    const ttl = this.options.ttlMs[tier] ?? Number.POSITIVE_INFINITY;
    return Math.min(ttl, capMs ?? Number.POSITIVE_INFINITY);
  }

  private setInMemory(key: string, value: V, json: string | undefined, capMs: number | undefined): void {
    const counters = this.memoryCounters;
    const started = performance.now();
    const bytes = this.options.sizeOf ? this.options.sizeOf(value) : Buffer.byteLength(json ?? JSON.stringify(value) ?? '');
    const ttl = this.ttl('memory', capMs);
    const held = this.cache.memoryTier.set(this.counters.memory, this.name, key, value, bytes, Number.isFinite(ttl) ? Math.max(1, Math.round(ttl)) : undefined);
    counters?.write(held ? 'ok' : 'skipped', performance.now() - started);
  }

  private async writeRemote(tier: RemoteTierName, key: string, value: V, json: string | undefined, capMs: number | undefined): Promise<void> {
    const counters = this.counters.tiers.get(tier);
    const ttl = this.ttl(tier, capMs);
    let result: RemoteResult<void>;
    if (tier === 'redis') {
      const redis = this.cache.redisTier;
      if (!redis) return;
      const encoded = encodeForRedis(value);
      result = await this.cache.remote('redis', () => redis.set(this.name, key, encoded, ttl));
    } else {
      const postgres = this.cache.postgresTier;
      if (!postgres) return;
      const encoded = Buffer.from(json ?? JSON.stringify(value));
      result = await this.cache.remote('postgres', () => postgres.set(this.name, key, encoded, ttl));
    }
    counters?.write(result.ok ? 'ok' : result.outcome, result.ms);
  }

  // ---- stampede protection ----

  private async loadOrCompute(key: string, compute: () => Promise<V>): Promise<V> {
    const found = await this.getBelowMemory(key);
    if (found !== undefined) return found;
    const redis = this.cache.redisTier;
    if (!redis || !this.remoteTiers.includes('redis')) return this.computeAndStore(key, compute);
    const token = randomBytes(9).toString('base64url');
    const deadline = Date.now() + this.lock.waitMs;
    let waited = false;
    for (;;) {
      const locked = await this.cache.remote('redis', () => redis.tryLock(this.name, key, token, this.lock.ttlMs));
      if (!locked.ok) return this.computeAndStore(key, compute);
      if (locked.value) {
        try {
          // The holder before us may have stored it between our read and our lock.
          const stored = await this.peekRedis(key);
          if (stored !== undefined) return stored;
          return await this.computeAndStore(key, compute);
        } finally {
          this.cache.background(this.cache.remote('redis', () => redis.unlock(this.name, key, token)));
        }
      }
      if (!waited) {
        waited = true;
        this.counters.stampedeWaits++;
      }
      if (Date.now() >= deadline) {
        this.cache.logger.info('cache lock holder is slow or gone: computing without waiting longer', { service: this.cache.service, kind: this.name, waitedMs: this.lock.waitMs });
        return this.computeAndStore(key, compute);
      }
      await sleep(this.lock.pollMs);
      const stored = await this.peekRedis(key);
      if (stored !== undefined) return stored;
    }
  }

  /** An L2 read while waiting behind another replica's lock (not counted as a lookup); fills L1 on a hit. */
  private async peekRedis(key: string): Promise<V | undefined> {
    const redis = this.cache.redisTier;
    if (!redis) return undefined;
    const result = await this.cache.remote('redis', () => redis.get(this.name, key));
    if (!result.ok || result.value === null) return undefined;
    const value = this.decode('redis', key, () => decodeFromRedis(result.value as Buffer));
    if (value !== undefined && this.hasMemory) this.setInMemory(key, value, undefined, undefined);
    return value;
  }

  private async computeAndStore(key: string, compute: () => Promise<V>): Promise<V> {
    this.counters.computes++;
    const value = await compute();
    await this.set(key, value);
    return value;
  }
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000;
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  if (!value) return {};
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

