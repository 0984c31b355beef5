import { waitFor } from '@quarry/testing';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { CacheHandle, CacheKindStats, CacheTierName, TieredCache } from '../src';
import { CacheFixture, metricValue } from './cache-fixture';

const Answer = z.object({ text: z.string(), score: z.number() });
type Answer = z.infer<typeof Answer>;

const ALL: CacheTierName[] = ['memory', 'redis', 'postgres'];

describe('TieredCache tiers (real Redis and Postgres)', () => {
  let fixture: CacheFixture;
  let redis: Redis;

  beforeAll(async () => {
    fixture = await CacheFixture.start('cachetiers');
    redis = new Redis(fixture.redis.url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await fixture?.close();
  });

  const rows = async (kind: string) =>
    fixture.dataSource.query<Array<{ key: string; bytes: number; value: Buffer; expires_at: Date }>>('SELECT key, bytes, value, expires_at FROM cache_entries WHERE kind = $1 ORDER BY key', [kind]);
  const redisKey = (kind: string, key: string) => `${fixture.redis.prefix}:cache:${kind}:${key}`;
  const kindStats = async (cache: TieredCache, kind: string): Promise<CacheKindStats> => {
    const found = (await cache.stats()).kinds.find((entry) => entry.kind === kind);
    if (!found) throw new Error(`no stats for ${kind}`);
    return found;
  };
  const tierOf = (stats: CacheKindStats, tier: CacheTierName) => {
    const found = stats.tiers.find((entry) => entry.tier === tier);
    if (!found) throw new Error(`no ${tier} in ${stats.kind}`);
    return found;
  };

  it('writes through every tier: L1, Redis (msgpack, PX), Postgres (JSON bytes, expires_at)', async () => {
    const { cache } = await fixture.cache();
    const answers = cache.kind<Answer>({ name: 'wt', tiers: ALL, ttlMs: { memory: 60_000, redis: 120_000, postgres: 3_600_000 }, parse: Answer.parse });
    await answers.set('k1', { text: 'hello', score: 0.5 });
    expect(await redis.exists(redisKey('wt', 'k1'))).toBe(1);
    const pttl = await redis.pttl(redisKey('wt', 'k1'));
    expect(pttl).toBeGreaterThan(100_000);
    expect(pttl).toBeLessThanOrEqual(120_000);
    const [row] = await rows('wt');
    expect(JSON.parse(row.value.toString('utf8'))).toEqual({ text: 'hello', score: 0.5 });
    expect(row.bytes).toBe(row.value.length);
    expect(row.expires_at.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    expect(await answers.get('k1')).toEqual({ text: 'hello', score: 0.5 });
    expect(tierOf(await kindStats(cache, 'wt'), 'memory').hits).toBe(1);
  });

  it('reads through and promotes: an L2 hit fills L1, an L3 hit fills L2 and L1 (capped by the row’s remaining lifetime)', async () => {
    const writer = (await fixture.cache()).cache;
    const options = { name: 'promo', tiers: ALL, ttlMs: { memory: 60_000, redis: 600_000, postgres: 3_600_000 }, parse: Answer.parse };
    await writer.kind<Answer>(options).set('a', { text: 'A', score: 1 });

    // Replica 1: empty L1, so the value comes from Redis and lands in its L1.
    const replica = (await fixture.cache()).cache;
    const handle = replica.kind<Answer>(options);
    expect(await handle.get('a')).toEqual({ text: 'A', score: 1 });
    expect(await handle.get('a')).toEqual({ text: 'A', score: 1 });
    let stats = await kindStats(replica, 'promo');
    expect([tierOf(stats, 'memory').hits, tierOf(stats, 'memory').misses, tierOf(stats, 'redis').hits, tierOf(stats, 'postgres').requests]).toEqual([1, 1, 1, 0]);

    // Only in Postgres (Redis lost it, the row has 30 s left): replica 2 finds it in L3 and fills L2 and L1.
    await redis.del(redisKey('promo', 'a'));
    await fixture.dataSource.query(`UPDATE cache_entries SET expires_at = now() + interval '30 seconds' WHERE kind = 'promo' AND key = 'a'`);
    const second = (await fixture.cache()).cache;
    const secondHandle = second.kind<Answer>(options);
    expect(await secondHandle.get('a')).toEqual({ text: 'A', score: 1 });
    stats = await kindStats(second, 'promo');
    expect([tierOf(stats, 'memory').misses, tierOf(stats, 'redis').misses, tierOf(stats, 'postgres').hits]).toEqual([1, 1, 1]);
    await waitFor(async () => (await redis.exists(redisKey('promo', 'a'))) === 1, { timeoutMs: 5000, intervalMs: 20, description: 'promotion to Redis' });
    const pttl = await redis.pttl(redisKey('promo', 'a'));
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    expect(await secondHandle.get('a')).toEqual({ text: 'A', score: 1 });
    expect(tierOf(await kindStats(second, 'promo'), 'memory').hits).toBe(1);
  });

  it('expires entries per tier: memory, Redis and Postgres TTLs (an expired row is a miss and is deleted)', async () => {
    const { cache } = await fixture.cache();
    const memoryOnly = cache.kind<string>({ name: 'ttl-mem', tiers: ['memory'], ttlMs: { memory: 150 } });
    const redisOnly = cache.kind<string>({ name: 'ttl-redis', tiers: ['redis'], ttlMs: { redis: 150 } });
    const postgresOnly = cache.kind<string>({ name: 'ttl-pg', tiers: ['postgres'], ttlMs: { postgres: 150 } });
    for (const handle of [memoryOnly, redisOnly, postgresOnly]) await handle.set('x', 'value');
    for (const handle of [memoryOnly, redisOnly, postgresOnly]) expect(await handle.get('x')).toBe('value');
    for (const handle of [memoryOnly, redisOnly, postgresOnly]) {
      await waitFor(async () => (await handle.get('x')) === undefined, { timeoutMs: 5000, intervalMs: 25, description: `${handle.name} to expire` });
    }
    await waitFor(async () => (await rows('ttl-pg')).length === 0, { timeoutMs: 5000, intervalMs: 25, description: 'the expired row to be deleted' });
    expect(tierOf(await kindStats(cache, 'ttl-pg'), 'postgres').evictions).toBe(1);
  });

  it('bounds L1 by bytes: least recently used entries are evicted and counted', async () => {
    const { cache, registry } = await fixture.cache({ memoryMaxBytes: 10_000 });
    const blobs = cache.kind<string>({ name: 'lru', tiers: ['memory'], ttlMs: {} });
    for (let index = 0; index < 30; index++) await blobs.set(`b${index}`, 'x'.repeat(998)); // 1000 JSON bytes each
    const stats = tierOf(await kindStats(cache, 'lru'), 'memory');
    expect(stats.entries).toBe(10);
    expect(stats.bytes).toBe(10_000);
    expect(stats.evictions).toBe(20);
    expect(await blobs.get('b0')).toBeUndefined();
    expect(await blobs.get('b29')).toBe('x'.repeat(998));
    expect(await metricValue(registry, 'quarry_cache_evictions_total', { kind: 'lru', tier: 'memory' })).toBe(20);
    expect(await metricValue(registry, 'quarry_cache_bytes', { kind: 'lru', tier: 'memory' })).toBe(10_000);
    expect(await metricValue(registry, 'quarry_cache_entries', { kind: 'lru', tier: 'memory' })).toBe(10);
    // An entry larger than L1 is not held (and counted as a skipped write), not an error.
    await blobs.set('huge', 'y'.repeat(20_000));
    expect(await blobs.get('huge')).toBeUndefined();
    expect(tierOf(await kindStats(cache, 'lru'), 'memory').writes.skipped).toBe(1);
    // A custom sizeOf is what counts.
    const counted = cache.kind<number[]>({ name: 'sized', tiers: ['memory'], ttlMs: {}, sizeOf: (value) => value.length * 8 });
    await counted.set('v', [1, 2, 3]);
    expect(tierOf(await kindStats(cache, 'sized'), 'memory').bytes).toBe(24);
  });

  it('treats a value that fails parse as a miss and deletes it from that tier', async () => {
    const { cache, logger } = await fixture.cache();
    const answers = cache.kind<Answer>({ name: 'parse', tiers: ['memory', 'redis', 'postgres'], ttlMs: { redis: 60_000, postgres: 60_000 }, parse: Answer.parse });
    await redis.set(redisKey('parse', 'bad'), Buffer.from([0x81, 0xa4, 0x74, 0x65, 0x78, 0x74, 0x07])); // msgpack {text: 7}
    await fixture.dataSource.query(`INSERT INTO cache_entries (kind, key, value, bytes, expires_at) VALUES ('parse', 'bad', $1, 12, now() + interval '1 hour')`, [Buffer.from('{"text":true}')]);
    expect(await answers.get('bad')).toBeUndefined();
    const stats = await kindStats(cache, 'parse');
    expect([tierOf(stats, 'redis').misses, tierOf(stats, 'postgres').misses, stats.misses]).toEqual([1, 1, 1]);
    await waitFor(async () => (await redis.exists(redisKey('parse', 'bad'))) === 0 && (await rows('parse')).length === 0, {
      timeoutMs: 5000,
      intervalMs: 20,
      description: 'invalid values to be deleted',
    });
    expect(logger.lines.filter((line) => line.msg.includes('failed validation'))).toHaveLength(2);
  });

  it('deletes from every tier, and every replica drops it from L1 through pub/sub', async () => {
    const options = { name: 'drop', tiers: ALL, ttlMs: { memory: 600_000, redis: 600_000, postgres: 600_000 } };
    const one = (await fixture.cache()).cache.kind<string>(options);
    const twoCache = (await fixture.cache()).cache;
    const two = twoCache.kind<string>(options);
    await one.set('k', 'v1');
    expect(await two.get('k')).toBe('v1'); // now in replica two's L1
    // Changed behind the cache's back in the shared tiers: replica two still answers from L1.
    await one.set('k', 'v2');
    expect(await two.get('k')).toBe('v1');
    await one.delete('k');
    expect(await redis.exists(redisKey('drop', 'k'))).toBe(0);
    expect(await rows('drop')).toHaveLength(0);
    await waitFor(async () => (await two.get('k')) === undefined, { timeoutMs: 5000, intervalMs: 20, description: 'replica two to drop the key from L1' });
    expect(tierOf(await kindStats(twoCache, 'drop'), 'memory').entries).toBe(0);
  });

  it('warms every tier in batches and says how many entries all of them took', async () => {
    const { cache } = await fixture.cache();
    const chunks = cache.kind<{ text: string }>({ name: 'warm', tiers: ALL, ttlMs: { memory: 60_000, redis: 60_000, postgres: 60_000 } });
    const entries = Array.from({ length: 1200 }, (_, index) => ({ key: `c${index}`, value: { text: `chunk ${index}` } }));
    expect(await chunks.warm([...entries, { key: 'c0', value: { text: 'chunk 0 again' } }])).toBe(1200);
    expect((await rows('warm')).length).toBe(1200);
    expect(await redis.exists(redisKey('warm', 'c1199'))).toBe(1);
    expect(await chunks.get('c0')).toEqual({ text: 'chunk 0 again' });
    const reader = (await fixture.cache()).cache.kind<{ text: string }>({ name: 'warm', tiers: ['postgres'], ttlMs: { postgres: 60_000 } });
    expect(await reader.get('c777')).toEqual({ text: 'chunk 777' });
  });

  it('purges expired rows in batches and counts them as evictions', async () => {
    const { cache } = await fixture.cache();
    cache.kind<string>({ name: 'purge', tiers: ['postgres'], ttlMs: { postgres: 60_000 } });
    await fixture.dataSource.query(
      `INSERT INTO cache_entries (kind, key, value, bytes, expires_at)
       SELECT 'purge', 'old' || g, '"x"'::bytea, 3, now() - interval '1 minute' FROM generate_series(1, 2500) g
       UNION ALL SELECT 'purge', 'live' || g, '"x"'::bytea, 3, now() + interval '1 hour' FROM generate_series(1, 10) g`,
    );
    expect(await cache.purgeExpired(1000, 400)).toBe(1000);
    expect(await cache.purgeExpired(undefined, 400)).toBe(1500);
    expect((await rows('purge')).length).toBe(10);
    const postgres = tierOf(await kindStats(cache, 'purge'), 'postgres');
    expect(postgres.evictions).toBe(2500);
    expect(postgres.entries).toBe(10);
  });

  it('has every counter at zero for each kind and tier as soon as the kind exists, with no job/instance labels', async () => {
    const { cache, registry } = await fixture.cache();
    cache.kind<string>({ name: 'fresh', tiers: ALL, ttlMs: { redis: 1000, postgres: 1000 } });
    for (const tier of ALL) {
      for (const outcome of ['hit', 'miss', 'error', 'skipped']) expect(await metricValue(registry, 'quarry_cache_requests_total', { kind: 'fresh', tier, outcome })).toBe(0);
      expect(await metricValue(registry, 'quarry_cache_evictions_total', { kind: 'fresh', tier })).toBe(0);
      expect(await metricValue(registry, 'quarry_cache_operation_duration_seconds_count', { kind: 'fresh', tier, operation: 'get' })).toBe(0);
    }
    expect(await metricValue(registry, 'quarry_cache_stampede_waits_total', { kind: 'fresh' })).toBe(0);
    for (const level of ['l1', 'l2', 'l3']) expect(await metricValue(registry, 'rag_cache_hits_total', { cache_level: level })).toBe(0);
    expect(await metricValue(registry, 'quarry_cache_tier_up', { tier: 'redis' })).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('quarry_cache_operation_duration_seconds_bucket{le="0.00001",kind="fresh",tier="memory",operation="get"} 0');
    expect(text).not.toMatch(/[{,](job|instance)="/);
  });

  it('reports stats that add up, and the same figures as the metrics', async () => {
    const options = { name: 'sum', tiers: ALL, ttlMs: { memory: 60_000, redis: 60_000, postgres: 60_000 } };
    const seeder = (await fixture.cache()).cache.kind<number>(options);
    for (let index = 0; index < 6; index++) await seeder.set(`k${index}`, index);
    await redis.del(redisKey('sum', 'k4'), redisKey('sum', 'k5')); // k4, k5 only in Postgres
    const { cache, registry } = await fixture.cache();
    const handle: CacheHandle<number> = cache.kind<number>(options);
    // L2 hits: k0..k3 (4); L1 hits: k0, k1 again (2); L3 hits: k4, k5 (2); misses: m0..m2 (3).
    for (const key of ['k0', 'k1', 'k2', 'k3', 'k0', 'k1', 'k4', 'k5', 'm0', 'm1', 'm2']) await handle.get(key);
    const stats = await kindStats(cache, 'sum');
    const [memory, l2, l3] = [tierOf(stats, 'memory'), tierOf(stats, 'redis'), tierOf(stats, 'postgres')];
    expect([memory.hits, l2.hits, l3.hits, stats.misses, stats.requests]).toEqual([2, 4, 2, 3, 11]);
    expect(memory.requests).toBe(stats.requests);
    expect(l2.requests).toBe(memory.misses + memory.errors + memory.skipped);
    expect(l3.requests).toBe(l2.misses + l2.errors + l2.skipped);
    expect(stats.hits + stats.misses).toBe(stats.requests);
    expect(stats.hitRate).toBeCloseTo(8 / 11, 3);
    expect(memory.latencyMs.get.samples).toBe(11);
    expect(l2.latencyMs.get.p50).toBeGreaterThan(0);
    expect(l2.latencyMs.get.p99).toBeGreaterThanOrEqual(l2.latencyMs.get.p50);
    const report = await cache.stats();
    expect(report.totals.requests).toBe(report.totals.hits + report.totals.misses);
    expect(report.totals.hitsByTier).toEqual({ memory: 2, redis: 4, postgres: 2 });
    expect(await metricValue(registry, 'quarry_cache_requests_total', { kind: 'sum', tier: 'redis', outcome: 'hit' })).toBe(4);
    expect(await metricValue(registry, 'quarry_cache_requests_total', { kind: 'sum', tier: 'postgres', outcome: 'miss' })).toBe(3);
    expect(await metricValue(registry, 'rag_cache_hits_total', { cache_level: 'l3' })).toBe(2);
    expect(await metricValue(registry, 'quarry_cache_operation_duration_seconds_count', { kind: 'sum', tier: 'memory', operation: 'get' })).toBe(11);
  });

  it('shares one registry between caches: their series add up, and a closed cache’s counts stay', async () => {
    const registry = new Registry();
    const options = { name: 'shared', tiers: ['memory'] as CacheTierName[], ttlMs: {} };
    const one = (await fixture.cache({ registry })).cache;
    const first = one.kind<number>(options);
    await first.set('x', 1);
    expect(await first.get('x')).toBe(1);
    // A second cache (and the same kind) on the registry after the first has counted: nothing is reset.
    const second = (await fixture.cache({ registry })).cache.kind<number>(options);
    expect(await second.get('x')).toBeUndefined();
    const counts = async () => [
      await metricValue(registry, 'quarry_cache_requests_total', { kind: 'shared', tier: 'memory', outcome: 'hit' }),
      await metricValue(registry, 'quarry_cache_requests_total', { kind: 'shared', tier: 'memory', outcome: 'miss' }),
      await metricValue(registry, 'quarry_cache_operation_duration_seconds_count', { kind: 'shared', tier: 'memory', operation: 'get' }),
    ];
    expect(await counts()).toEqual([1, 1, 2]);
    await one.close();
    expect(await second.get('y')).toBeUndefined();
    expect(await counts()).toEqual([1, 2, 3]);
  });

  it('warns when a kind’s hit rate over a window stays under the threshold, and tells its listeners', async () => {
    const { cache, logger } = await fixture.cache({ hitRateWarning: { threshold: 0.6, minRequests: 10, everyMs: 100 } });
    const cold = cache.kind<string>({ name: 'cold', tiers: ['memory'], ttlMs: {} });
    const told: Array<{ kind: string; hitRate: number; requests: number }> = [];
    cache.onLowHitRate((low) => told.push(low));
    for (let index = 0; index < 20; index++) await cold.get(`never-${index}`);
    await waitFor(() => logger.lines.find((line) => line.msg === 'cache hit rate below threshold'), { timeoutMs: 3000, intervalMs: 20, description: 'the warning' });
    expect(logger.lines.find((line) => line.msg === 'cache hit rate below threshold')?.meta).toMatchObject({ kind: 'cold', hitRate: 0, requests: 20 });
    expect(told).toEqual([{ kind: 'cold', hitRate: 0, requests: 20 }]);
  });

  it('rejects kinds it cannot honour', async () => {
    const { cache } = await fixture.cache();
    expect(() => cache.kind({ name: 'no-ttl', tiers: ['redis'], ttlMs: {} })).toThrow('ttlMs.redis is required');
    cache.kind({ name: 'twice', tiers: ['memory'], ttlMs: {} });
    expect(() => cache.kind({ name: 'twice', tiers: ['memory'], ttlMs: {} })).toThrow('defined already');
    expect(() => cache.kind({ name: 'bad|name', tiers: ['memory'], ttlMs: {} })).toThrow('must match');
  });
});
