import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

export type CacheTierName = 'memory' | 'redis' | 'postgres';
export type RemoteTierName = Exclude<CacheTierName, 'memory'>;

export interface CacheKindOptions<V> {
  /** 'answer', 'retrieval', 'query-embedding', 'chunk', 'llm', … (unique per TieredCache) */
  name: string;
  /** which tiers this kind uses, in order; tiers the TieredCache was not given are left out */
  tiers: CacheTierName[];
  /** per-tier TTL; required for redis and postgres, optional for memory (then LRU only) */
  ttlMs: Partial<Record<CacheTierName, number>>;
  /** validates values read back from L2/L3 (a zod schema's parse, typically); a value that fails is a miss and is deleted */
  parse?: (raw: unknown) => V;
  /** bytes of a value for L1 accounting (default: JSON length in UTF-8 bytes) */
  sizeOf?: (value: V) => number;
  /** after the drop subscription comes back from a Redis outage (drops may have been missed), clear this kind's L1 */
  dropL1OnResubscribe?: boolean;
  /** cross-process stampede lock of getOrCompute (defaults: ttl 5000, wait 2000, poll 20 ms) */
  lock?: { ttlMs?: number; waitMs?: number; pollMs?: number };
}

export interface CacheHandle<V> {
  readonly name: string;
  /** read-through L1→L2→L3, a lower-tier hit fills the tiers above (promotion) */
  get(key: string): Promise<V | undefined>;
  /** write-through every tier of the kind */
  set(key: string, value: V): Promise<void>;
  /** stampede protection: one compute per key per process, and across processes through a short Redis lock */
  getOrCompute(key: string, compute: () => Promise<V>): Promise<V>;
  /** every tier, and other replicas' L1 via a Redis pub/sub message */
  delete(key: string): Promise<void>;
  /** how many entries every tier of the kind accepted */
  warm(entries: Array<{ key: string; value: V }>): Promise<number>;
}

export interface CacheLogger {
  warn(msg: string, meta?: object): void;
  info(msg: string, meta?: object): void;
  error(msg: string, meta?: object): void;
}

export interface TieredCacheOptions {
  /** for metrics/logs */
  service: string;
  /** absent: no L2 (and no pub/sub) */
  redis?: { url: string; prefix: string };
  /** absent: no L3 */
  dataSource?: DataSource;
  memoryMaxBytes: number;
  /** L1 entry cap across kinds (default 100 000) */
  memoryMaxEntries?: number;
  /** the service's metrics registry */
  registry: Registry;
  logger: CacheLogger;
  /** per-operation deadline for L2/L3, after which the tier is skipped for this call (default 50 ms L2, 100 ms L3) */
  tierTimeoutMs?: Partial<Record<RemoteTierName, number>>;
  /** circuit breaker of L2/L3: down after `failures` consecutive failures, for `openMs` doubling up to `maxOpenMs`, then one probe */
  breaker?: { failures?: number; openMs?: number; maxOpenMs?: number };
  /** hit-rate warning: a kind whose hit rate over the last window stays under this logs a warning (seed default 0.6) */
  hitRateWarning?: { threshold: number; minRequests: number; everyMs: number };
}

export type TierState = 'up' | 'degraded' | 'down';

export interface TierHealth {
  tier: CacheTierName;
  state: TierState;
  lastError?: string;
  since?: string;
}

export interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface CacheTierStats {
  tier: CacheTierName;
  /** lookups that reached this tier: hits + misses + errors + skipped */
  requests: number;
  hits: number;
  misses: number;
  errors: number;
  skipped: number;
  /** hits / requests at this tier (0 when none) */
  hitRate: number;
  /** from the last 2048 operations, in ms */
  latencyMs: { get: LatencySummary; set: LatencySummary };
  /** memory: always; postgres: live rows, when the table answered; redis: not counted (no SCAN on a shared Redis) */
  entries?: number;
  bytes?: number;
  evictions: number;
  writes: { ok: number; error: number; skipped: number };
}

export interface CacheKindStats {
  kind: string;
  tiers: CacheTierStats[];
  /** get lookups (getOrCompute calls that joined one in flight make none) = hits + misses */
  requests: number;
  hits: number;
  /** lookups that no tier answered */
  misses: number;
  hitRate: number;
  computes: number;
  stampedeWaits: number;
}

export interface CacheStatsReport {
  service: string;
  kinds: CacheKindStats[];
  totals: { requests: number; hits: number; misses: number; hitRate: number; hitsByTier: Record<CacheTierName, number> };
  health: TierHealth[];
}
